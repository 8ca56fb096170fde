#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: checks the machine, then deploys the stack (default: dev) with a local state
# backend in .pulumi-state/ of this project. Stack and backend can be changed with PULUMI_STACK / PULUMI_BACKEND_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

stack="${PULUMI_STACK:-dev}"
[ -d node_modules ] || npm ci
npx ts-node --transpile-only scripts/preflight.ts --stack "$stack"

if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "Pulumi will ask for a passphrase: it encrypts the unseal keys, root token and kubeconfig in the state."
  echo "Keep it; set PULUMI_CONFIG_PASSPHRASE (or _FILE) to skip the prompt."
fi

pulumi stack select "$stack" --create --secrets-provider passphrase
pulumi up --stack "$stack" "$@"
