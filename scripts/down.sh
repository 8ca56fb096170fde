#!/usr/bin/env bash
# npm run down [-- <pulumi destroy flags>]: removes what `npm run up` deployed, from the same stack and backend
# (scripts/lib.sh). On kind (cluster: kind, the default) that is the kind cluster and everything in it, in one
# `kind delete`; with cluster: existing, vault-ha's objects one by one, and never the cluster itself. It checks only for
# the tools that destroy runs (Node, Pulumi, and kind or kubectl by the stack's mode, read without validating the
# rest): it must work when Docker, the cluster or the stack's settings are gone or broken.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$VAULT_HA_ROOT"

use_stack
ensure_deps
preflight --destroy --stack "$stack"
pulumi destroy --stack "$stack" "$@"
