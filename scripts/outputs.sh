#!/usr/bin/env bash
# npm run outputs [-- --ca-file FILE]: the stack's vaultEnv on stdout and its CA in ./vault-ca.pem (scripts/outputs.ts),
# so that Vault's CLI works from a plain shell:   eval "$(npm run --silent outputs)"
# npm run outputs -- --help      the usage (scripts/outputs.ts OUTPUTS_ARGS)
# Same stack and backend as `npm run up` (scripts/lib.sh); needs the Pulumi CLI. stdout is for eval: everything else,
# the preflight's findings among it, goes to stderr.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

# outputs ARG...: scripts/outputs.ts with the stack, which a --stack among ARGs overrides.
outputs() {
  "$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only "$VAULT_HA_ROOT/scripts/outputs.ts" --stack "$stack" "$@"
}

use_stack
ensure_deps
# outputs.ts answers --help and refuses a flag it does not know before it reads anything: before the tools are looked for.
for arg in "$@"; do
  case $arg in
    --) break ;;
    --ca-file | --ca-file=* | --stack | --stack=* | -s) ;;
    -*)
      outputs "$@"
      exit 0
      ;;
  esac
done
require_tools pulumi >&2
outputs "$@"
