#!/usr/bin/env bash
# npm run config [-- <pulumi config arguments>]: `pulumi config` for the stack and backend that `npm run up` uses
# (scripts/lib.sh), from any shell, also before the first `npm run up` (it creates the stack then, as up would).
#   npm run config -- set vault-ha:workers 5
#   npm run config -- set --secret vault-ha:rootToken
#   npm run config                      (lists the stack's settings)
# -- --help prints the usage; a flag pulumi does not know is refused before anything runs (lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF_USAGE'
usage: npm run config [-- <pulumi config arguments>]

`pulumi config` for the stack and backend that `npm run up` uses, from any shell; it creates the stack first if it
does not exist yet, as up would.
  npm run config                                  lists the stack's settings
  npm run config -- set vault-ha:workers 5
  npm run config -- set --secret vault-ha:rootToken
  npm run config -- rm vault-ha:workers
EOF_USAGE
  passthrough_usage config argument
}
answer_help usage "$@"
check_pulumi_flags usage "npm run config" "--secret --plaintext --path --json" config -- "$@"
cd "$VAULT_HA_ROOT"

use_stack
require_tools pulumi
if ! pulumi stack select "$stack" >/dev/null 2>&1; then
  echo "Creating the stack $stack (in $PULUMI_BACKEND_URL), as npm run up would."
  passphrase_notice
  select_stack
fi
# --stack before the arguments: after a `--` among them it would be an argument, not a flag.
pulumi config --stack "$stack" "$@"
