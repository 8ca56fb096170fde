#!/usr/bin/env bash
# npm run status [-- --json]: whether the stack's Vault is healthy (scripts/status.ts); exit 1 when it is not.
# npm run status -- --help      the usage (scripts/status.ts STATUS_ARGS)
# Same stack and backend as `npm run up` (scripts/lib.sh); needs kubectl and the Pulumi CLI.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

# status ARG...: scripts/status.ts with the stack, which a --stack among ARGs overrides.
status() {
  "$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only "$VAULT_HA_ROOT/scripts/status.ts" --stack "$stack" "$@"
}

use_stack
ensure_deps
# status.ts answers --help and refuses a flag it does not know before it reads anything: before the tools are looked
# for. Its report goes to stdout (--json for scripts): the preflight's findings go to stderr.
for arg in "$@"; do
  case $arg in
    --) break ;;
    --json | --stack | --stack=* | -s) ;;
    -*)
      status "$@"
      exit 0
      ;;
  esac
done
require_tools pulumi kubectl >&2
status "$@"
