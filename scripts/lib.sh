# shellcheck shell=bash
# Sourced by scripts/up.sh, down.sh, config.sh, backup.sh and e2e.sh: their arguments (--help, a flag refused before
# anything runs), the project folder, the stack and its state backend, the
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

# The flags of `pulumi up` and `pulumi destroy` used every day, which check_pulumi_flags lets through without asking
# pulumi (all exist in both commands and take no value).
PULUMI_UP_COMMON_FLAGS="--yes -y --skip-preview -f --diff --refresh -r --non-interactive"

# answer_help USAGE_FUNCTION ARG...: when an ARG before any `--` is -h or --help, prints the command's usage (what
# USAGE_FUNCTION prints) and exits 0, before anything else runs: no install, no preflight, no stack.
answer_help() {
  local usage_fn=$1 arg
  shift
  for arg in "$@"; do
    case $arg in
      --) return 0 ;;
      -h | --help) "$usage_fn"; exit 0 ;;
    esac
  done
}

# passthrough_usage PULUMI_COMMAND WORD [EXAMPLES]: the end of the usage of a command that passes its arguments (each
# a WORD: flag or argument) to `pulumi PULUMI_COMMAND` with the stack and backend of npm run up: what it takes, and the
# environment it reads.
passthrough_usage() {
  local examples=""
  [ -n "${3:-}" ] && examples=", e.g. $3"
  cat <<EOF_PASSTHROUGH

flags:
  -h, --help      print this help and exit
  any other $2 goes to \`pulumi $1\` (\`pulumi $1 --help\` lists its flags)$examples;
  a flag pulumi does not know is refused before anything runs.

environment:
  PULUMI_STACK          the stack (default: dev)
  PULUMI_BACKEND_URL    the state backend (default: the project's .pulumi-state/)
EOF_PASSTHROUGH
}

# usage_error USAGE_FUNCTION MESSAGE: MESSAGE, then the usage, on stderr; exits 2 (a mistake in the arguments).
usage_error() {
  {
    printf '%s\n\n' "$2"
    "$1"
  } >&2
  exit 2
}

# check_pulumi_flags USAGE_FUNCTION NAME COMMON PULUMI_COMMAND... -- ARG...: refuses (usage_error) ARGs that
# `pulumi PULUMI_COMMAND` would refuse, before the preflight and the stack, so that a mistyped flag costs nothing.
# Pulumi's CLI (cobra) parses every flag before it looks at --help (spf13/cobra command.go, execute: ParseFlags, then
# the help flag, then the command), so `pulumi up ARG... --help` fails on an unknown flag and otherwise only prints the
# help: Pulumi itself decides, for the version installed. No check runs when every flag is in COMMON (space-separated
# flags that need no value, the ones used every day: no extra start of pulumi), when pulumi is not on PATH (the
# preflight then says how to install it), or for what follows a `--`.
# --help comes first for up and destroy, and last for config (after its subcommand words: placed before them, cobra's
# search for the subcommand would take --help for a flag with a value, spf13/cobra command.go stripFlags). Last, a
# flag that takes a value and was given none (`-m`) takes --help as its value (spf13/pflag flag.go parseLongArg), and
# pulumi runs the command itself; so the check runs where that can do nothing: in an empty folder (no Pulumi.yaml),
# against an empty file backend (no stack), with no stack or passphrase from the environment and no terminal.
check_pulumi_flags() {
  local usage_fn=$1 name=$2 common=" $3 " arg unusual="" refusal sandbox
  shift 3
  local pulumi_command=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pulumi_command+=("$1"); shift; done
  if [ $# -gt 0 ]; then shift; fi
  local before=()
  for arg in "$@"; do
    [ "$arg" = -- ] && break
    before+=("$arg")
    case $arg in
      -*) case $common in *" $arg "*) ;; *) unusual=1 ;; esac ;;
    esac
  done
  [ -n "$unusual" ] || return 0
  command -v pulumi >/dev/null 2>&1 || return 0
  local asked=("${pulumi_command[@]}" --help "${before[@]}")
  [ "${pulumi_command[0]}" = config ] && asked=("${pulumi_command[@]}" "${before[@]}" --help)
  sandbox=$(mktemp -d "${TMPDIR:-/tmp}/vault-ha-flags.XXXXXX") || return 0
  if refusal=$(cd "$sandbox" && env -u PULUMI_STACK -u PULUMI_CONFIG_PASSPHRASE -u PULUMI_CONFIG_PASSPHRASE_FILE \
    PULUMI_BACKEND_URL="file://$sandbox" PULUMI_SKIP_UPDATE_CHECK=true pulumi "${asked[@]}" 2>&1 >/dev/null </dev/null); then
    rm -rf "$sandbox"
    return 0
  fi
  rm -rf "$sandbox"
  # Anything but a flag error (a broken pulumi, say) is left to the preflight and the command itself.
  refusal=$(printf '%s\n' "$refusal" | grep -i -m 1 -E 'flag|argument' || true)
  [ -n "$refusal" ] || return 0
  # Pulumi prints its errors as "error: ..." (pkg/cmd/pulumi main.go, DisplayErrorMessage); cobra's own are "Error: ...".
  refusal=${refusal#error: }
  usage_error "$usage_fn" "$name: pulumi ${pulumi_command[*]} refuses the arguments: ${refusal#Error: }"
}
