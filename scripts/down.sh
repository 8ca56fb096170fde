#!/usr/bin/env bash
# npm run down [-- <pulumi destroy flags>]: deletes the kind cluster and everything in it (one `kind delete`).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${PULUMI_STACK:-dev}"
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
pulumi destroy --stack "$stack" "$@"
