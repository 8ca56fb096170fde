#!/usr/bin/env bash
# npm run down [-- <pulumi destroy flags>]: removes what `npm run up` deployed, from the same stack and backend
# (scripts/lib.sh). On kind (cluster: kind, the default) that is the kind cluster and everything in it, in one
# `kind delete`; with cluster: existing, vault-ha's objects one by one, and never the cluster itself. It checks only for
# the tools that destroy runs (Node, Pulumi, and kind or kubectl by the stack's mode, read without validating the
# rest): it must work when Docker, the cluster or the stack's settings are gone or broken.
# -- --help prints the usage; a flag pulumi does not know is refused before anything runs (lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF_USAGE'
usage: npm run down [-- <pulumi destroy flags>]

Removes what `npm run up` deployed, from the same stack and backend: on kind the whole kind cluster, on an existing
cluster vault-ha's objects one by one (never the cluster itself).
EOF_USAGE
  passthrough_usage destroy flag "--yes, --skip-preview"
}
answer_help usage "$@"
check_pulumi_flags usage "npm run down" "$PULUMI_UP_COMMON_FLAGS" destroy -- "$@"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
preflight --destroy --stack "$stack"
pulumi destroy --stack "$stack" "$@"
