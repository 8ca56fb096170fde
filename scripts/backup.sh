#!/usr/bin/env bash
# npm run snapshot                 saves a raft snapshot of the stack's Vault, with the keys that open it
# npm run restore -- FILE.snap     restores one (see scripts/backup.ts and the README's "Backups")
# npm run snapshot -- --help       the usage (scripts/backup.ts SNAPSHOT_ARGS, RESTORE_ARGS)
# Same stack and backend as `npm run up` (scripts/lib.sh); needs kubectl and the Pulumi CLI.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

# backup COMMAND ARG...: scripts/backup.ts, the command first, then the stack, which a --stack among ARGs overrides.
backup() {
  local command=$1
  shift
  "$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only "$VAULT_HA_ROOT/scripts/backup.ts" "$command" --stack "$stack" "$@"
}

use_stack
ensure_deps
# backup.ts answers --help and refuses a flag it does not know (its SNAPSHOT_ARGS / RESTORE_ARGS) before it does
# anything: it may do so before the tools are looked for.
for arg in "$@"; do
  case $arg in
    --) break ;;
    - | --stack | --stack=* | -s) ;;
    -*)
      backup "$@"
      exit 0
      ;;
  esac
done
require_tools pulumi kubectl
backup "$@"
