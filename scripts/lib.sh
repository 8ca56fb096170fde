# shellcheck shell=bash
# Sourced by scripts/up.sh, down.sh, config.sh and e2e.sh: the project folder, the stack and its state backend, the
# npm packages and the preflight, the same for every command. Sourcing it only defines variables and functions.
# Portable to macOS's bash 3.2.

# The project folder (this file is in its scripts/).
VAULT_HA_ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# use_stack: sets $stack to PULUMI_STACK (default dev) and exports PULUMI_BACKEND_URL, by default the project's own
# file backend .pulumi-state/ (created if missing), so that every pulumi command after it reads the same state, in
# any shell. The stack is passed to each command as --stack: nothing depends on the stack `pulumi stack select` left
# selected, or on a `pulumi login`.
use_stack() {
  stack="${PULUMI_STACK:-dev}"
  if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
    mkdir -p "$VAULT_HA_ROOT/.pulumi-state"
    export PULUMI_BACKEND_URL="file://$VAULT_HA_ROOT/.pulumi-state"
  fi
}

# passphrase_notice: says that Pulumi will ask for the passphrase, unless the environment gives it.
passphrase_notice() {
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    echo "Pulumi will ask for a passphrase: it encrypts the unseal keys, root token and kubeconfig in the state."
    echo "Keep it; set PULUMI_CONFIG_PASSPHRASE (or _FILE) to skip the prompt."
  fi
}

# select_stack: selects $stack in the backend, creating it (with passphrase-encrypted secrets) if it is new.
select_stack() {
  pulumi stack select "$stack" --create --secrets-provider passphrase
}

# ensure_deps: installs the npm packages when node_modules is missing or out of date (scripts/ensure-deps.js).
ensure_deps() {
  node "$VAULT_HA_ROOT/scripts/ensure-deps.js"
}

# preflight [ARGS...]: scripts/preflight.ts: says what this machine lacks and how to fix it; fails if anything does.
# Needs the npm packages (ensure_deps first).
preflight() {
  "$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only "$VAULT_HA_ROOT/scripts/preflight.ts" "$@"
}

# require_tools TOOL...: returns at once when every TOOL is on PATH; otherwise the preflight names each missing one
# and how to install it, and the command stops there.
require_tools() {
  local tool missing=""
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing=1
  done
  [ -z "$missing" ] && return 0
  ensure_deps
  preflight --tools "$(IFS=,; echo "$*")"
}
