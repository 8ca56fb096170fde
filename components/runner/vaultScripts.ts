/**
 * The shell scripts vault-ha runs in the Vault pods (`kubectl exec ... sh -c SCRIPT`): what each sends to Vault, and
 * how secrets reach it. The root token is always read from stdin, never from an argument or the environment (both
 * are visible in the pod's process table), into a throwaway $HOME/.vault-token that the Vault CLI reads.
 *
 * Every script here runs in existing clusters: its text is pinned in tests/unit/runner/vaultScripts.test.ts.
 */

/**
 * The prologue of a script that makes exactly one Vault CLI call with the root token: stdin (the token, nothing
 * else) goes into a private, temporary token file that is removed when the shell exits.
 *
 * `unset VAULT_TOKEN` first: with a transit seal the pod's environment holds the transit Vault's token as VAULT_TOKEN
 * (the chart's server.extraSecretEnvironmentVars: Vault's transit seal reads its token from there,
 * configutil/env_var_util.go), and the CLI prefers VAULT_TOKEN to the token file (api/client.go reads it at
 * DefaultConfig; the token helper only when it is empty): the call would go out with the transit token, be refused,
 * and hand that token to the local Vault. Without a transit seal the variable is not set, and unsetting it changes
 * nothing.
 */
const TOKEN_FROM_STDIN = `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
`;

/** `command` run by the Vault CLI with the token TOKEN_FROM_STDIN reads. */
function withToken(command: string): string {
    return `${TOKEN_FROM_STDIN}HOME="$home" ${command}`;
}

/** The raft configuration (command/operator_raft_listpeers.go). */
export const LIST_PEERS_SCRIPT = withToken("vault operator raft list-peers -format=json");

/** Removes the raft peer named by $1 (command/operator_raft_remove_peer.go). */
export const REMOVE_PEER_SCRIPT = withToken('vault operator raft remove-peer "$1"');

/** PUT sys/step-down, which needs a token (command/operator_step_down.go: exit 0 on success, 2 on an API error). */
export const STEP_DOWN_SCRIPT = withToken("vault operator step-down");

/** Autopilot's state (command/operator_raft_autopilot_state.go; GET sys/storage/raft/autopilot/state). */
export const AUTOPILOT_STATE_SCRIPT = withToken("vault operator raft autopilot state -format=json");

/**
 * `vault operator raft snapshot save` into the pod's stdout, which kubectl exec streams back: no copy stays in the
 * pod (command/operator_raft_snapshot_save.go opens the path it is given with os.OpenFile; /dev/stdout is the exec
 * stream). The first line of stdin is the token (VAULT_TOKEN is unset for the reason TOKEN_FROM_STDIN gives).
 */
export const SNAPSHOT_SAVE_SCRIPT = `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
# The CLI's own 60 s client timeout would cut a large snapshot short (api/client.go VAULT_CLIENT_TIMEOUT).
VAULT_CLIENT_TIMEOUT=3600 HOME="$home" vault operator raft snapshot save /dev/stdout`;

/**
 * Where a snapshot to restore is staged in the pod: $HOME, the chart's emptyDir, private to the pod. A restore streamed
 * through `kubectl exec` straight into the Vault CLI would reach Vault's listener at the speed of the user's
 * connection, and the listener gives a request body 30 s (http_read_timeout) and a request 90 s
 * (max_request_duration), Vault's defaults (docs: configuration/listener/tcp; vault/request_handling.go
 * DefaultMaxRequestDuration; hashicorp/vault#24245, #24255). Raising them would change the server config, which rolls
 * every pod. So the file is uploaded first (an upload changes nothing in Vault: it can be repeated, and is checked by
 * size and SHA-256 in the pod), and the CLI then sends it over loopback.
 */
export const STAGED_SNAPSHOT_FILE = "$HOME/.vault-ha-restore.snap";

/** Receives the snapshot on stdin into the staging file (a partial file first, so a cut upload is never taken whole). */
export const STAGE_SNAPSHOT_SCRIPT = `set -eu
umask 077
f="${STAGED_SNAPSHOT_FILE}"
rm -f "$f"
cat > "$f.partial"
mv "$f.partial" "$f"`;

/** Prints the staged file's size and SHA-256 (busybox wc and sha256sum in the Vault image), nothing if there is none. */
export const CHECK_STAGED_SNAPSHOT_SCRIPT = `f="${STAGED_SNAPSHOT_FILE}"; if [ -f "$f" ]; then wc -c < "$f"; sha256sum "$f"; fi`;

export const DROP_STAGED_SNAPSHOT_SCRIPT = `rm -f "${STAGED_SNAPSHOT_FILE}" "${STAGED_SNAPSHOT_FILE}.partial"`;

/** What the restore script says, and its exit code, when its pod is not the active node (nothing was sent). */
export const NOT_ACTIVE_EXIT = 3;
export const NOT_ACTIVE_MESSAGE = "vault-ha: this Vault node is not the active one; nothing was sent";

/**
 * \`vault operator raft snapshot restore [-force] FILE\` of the staged file (command/operator_raft_snapshot_restore.go
 * os.Opens the path and streams it to Vault at 127.0.0.1). The first line of stdin is the token. The staged file is
 * removed when the script ends, whatever the outcome. $1: "-force" or "".
 *
 * Only on the active node: a standby answers the snapshot paths with a 307 to the active node (http/handler.go
 * alwaysRedirectPaths), which the CLI takes for success without anything restored (api/client.go follows one
 * redirect with a body already read; 307 is no error). The leadership can move during a long upload, so the pod
 * is asked again right before the call.
 */
export const RESTORE_STAGED_SNAPSHOT_SCRIPT = `set -eu
unset VAULT_TOKEN
umask 077
f="${STAGED_SNAPSHOT_FILE}"
home=$(mktemp -d)
trap 'rm -rf "$home" "$f"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
export VAULT_CLIENT_TIMEOUT=3600
if ! HOME="$home" vault status -format=json | grep -q '"is_self": true'; then
  echo "${NOT_ACTIVE_MESSAGE}" >&2
  exit ${NOT_ACTIVE_EXIT}
fi
if [ "$1" = -force ]; then
  HOME="$home" vault operator raft snapshot restore -force "$f"
else
  HOME="$home" vault operator raft snapshot restore "$f"
fi`;

/**
 * Where `vault operator init` writes its answer inside the pod first: $HOME is the chart's emptyDir, private to the
 * pod and kept across container restarts. If this process dies between Vault answering and the key file being on
 * the laptop's disk, the answer is still in the pod, and the next run takes it from there (INIT_SCRIPT, then
 * TAKE_STAGED_INIT_SCRIPT). It is removed as soon as the key file is written.
 */
export const STAGED_INIT_FILE = "$HOME/.vault-ha-init.json";

/**
 * Runs init into the staging file, then prints it. $1/$2: key shares and threshold. No clean-up trap: if the shell
 * is stopped while vault still writes, the ".partial" file is the only copy of the answer, and TAKE_STAGED_INIT
 * reads it too (a failed init leaves it without keys, which the reader ignores).
 */
export const INIT_SCRIPT = `set -eu
umask 077
f="${STAGED_INIT_FILE}"
vault operator init -key-shares="$1" -key-threshold="$2" -format=json > "$f.partial"
mv "$f.partial" "$f"
cat "$f"`;

/**
 * INIT_SCRIPT for an auto seal: `-recovery-shares`/`-recovery-threshold` ($1/$2), since Vault refuses -key-shares with
 * a seal that opens itself (http/sys_init.go validateInitParameters: 400 "parameters secret_shares,secret_threshold not
 * applicable to seal type ..."). The answer has the recovery keys and an empty unseal_keys_b64, and the node unseals
 * itself right after (sys_init.go UnsealWithStoredKeys). Init needs no token: VAULT_TOKEN (a transit seal's) is unset
 * so that it is not sent anywhere. Staged like INIT_SCRIPT, in the same file.
 */
export const INIT_RECOVERY_SCRIPT = `set -eu
unset VAULT_TOKEN
umask 077
f="${STAGED_INIT_FILE}"
vault operator init -recovery-shares="$1" -recovery-threshold="$2" -format=json > "$f.partial"
mv "$f.partial" "$f"
cat "$f"`;

/** Prints the staged answer if there is one, complete or not yet renamed (exit 0, empty output if none). */
export const TAKE_STAGED_INIT_SCRIPT = `f="${STAGED_INIT_FILE}"; for c in "$f" "$f.partial"; do if [ -s "$c" ]; then cat "$c"; exit 0; fi; done`;
export const DROP_STAGED_INIT_SCRIPT = `rm -f "${STAGED_INIT_FILE}" "${STAGED_INIT_FILE}.partial"`;
