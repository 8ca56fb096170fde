#!/usr/bin/env bash
# npm run config [-- <pulumi config arguments>]: `pulumi config` for the stack and backend that `npm run up` uses
# (scripts/lib.sh), from any shell, also before the first `npm run up` (it creates the stack then, as up would).
#   npm run config -- set vault-ha:workers 5
#   npm run config -- set --secret vault-ha:rootToken
#   npm run config                      (lists the stack's settings)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
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
