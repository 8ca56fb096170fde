#!/usr/bin/env bash
# npm run down [-- <pulumi destroy flags>]: deletes the kind cluster and everything in it (one `kind delete`), from the
# same stack and backend as `npm run up` (scripts/lib.sh). It checks only for the tools a destroy runs (Node, Pulumi,
# kind): it must work when Docker, the cluster or the stack's settings are gone or broken.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
preflight --tools pulumi,kind
pulumi destroy --stack "$stack" "$@"
