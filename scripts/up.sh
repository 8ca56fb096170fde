#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: installs the npm packages if needed, checks the machine (and, with cluster:
# existing, the cluster: scripts/preflight.ts; no Docker or kind then), then deploys the stack (default: dev) with a
# local state backend in .pulumi-state/ of this project. Stack and backend can be changed with PULUMI_STACK /
# PULUMI_BACKEND_URL (scripts/lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
preflight --stack "$stack"
passphrase_notice
select_stack
pulumi up --stack "$stack" "$@"
