#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: installs the npm packages if needed, checks the machine (and, with cluster:
# existing, the cluster: scripts/preflight.ts; no Docker or kind then), then deploys the stack (default: dev) with a
# local state backend in .pulumi-state/ of this project. Stack and backend can be changed with PULUMI_STACK /
# PULUMI_BACKEND_URL (scripts/lib.sh).
# -- --help prints the usage; a flag pulumi does not know is refused before anything runs (lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF_USAGE'
usage: npm run up [-- <pulumi up flags>]

Checks this machine (and, with cluster: existing, the cluster), then deploys the stack with `pulumi up`.
EOF_USAGE
  passthrough_usage up flag "--yes, --skip-preview, --diff, --refresh"
}
answer_help usage "$@"
check_pulumi_flags usage "npm run up" "$PULUMI_UP_COMMON_FLAGS" up -- "$@"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
preflight --stack "$stack"
passphrase_notice
select_stack
pulumi up --stack "$stack" "$@"
