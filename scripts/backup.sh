#!/usr/bin/env bash
# npm run snapshot                 saves a raft snapshot of the stack's Vault, with the keys that open it
# npm run restore -- FILE.snap     restores one (see scripts/backup.ts and the README's "Backups")
# Same stack and backend as `npm run up` (scripts/lib.sh); needs kubectl and the Pulumi CLI.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
require_tools pulumi kubectl
"$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only "$VAULT_HA_ROOT/scripts/backup.ts" "$@" --stack "$stack"
