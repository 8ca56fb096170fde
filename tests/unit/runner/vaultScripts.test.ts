/**
 * The exact text of every shell script sent into the Vault pods (components/runner/kubectl.ts and the command
 * builders behind it). Running pods and their Vault CLI see these bytes: however the scripts are assembled, a change
 * here changes what runs in every existing cluster, so it must be deliberate.
 */
import { strict as assert } from "assert";
import * as scripts from "../../../components/runner/kubectl";

// Changed on purpose once (issue 21, auto seals): the scripts that use the root token start with `unset VAULT_TOKEN`.
// With a transit seal the pod's environment holds the transit Vault's token as VAULT_TOKEN (the chart's
// extraSecretEnvironmentVars), and the Vault CLI prefers that variable to the token file these scripts write: the
// call would go out with the transit token. Where the variable is not set (every other seal) unsetting it does nothing.
const PINNED: Record<string, string | number> = {
    AUTOPILOT_STATE_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft autopilot state -format=json`,
    CHECK_STAGED_SNAPSHOT_SCRIPT: `f="$HOME/.vault-ha-restore.snap"; if [ -f "$f" ]; then wc -c < "$f"; sha256sum "$f"; fi`,
    DROP_STAGED_INIT_SCRIPT: `rm -f "$HOME/.vault-ha-init.json" "$HOME/.vault-ha-init.json.partial"`,
    DROP_STAGED_SNAPSHOT_SCRIPT: `rm -f "$HOME/.vault-ha-restore.snap" "$HOME/.vault-ha-restore.snap.partial"`,
    INIT_SCRIPT: `set -eu
umask 077
f="$HOME/.vault-ha-init.json"
vault operator init -key-shares="$1" -key-threshold="$2" -format=json > "$f.partial"
mv "$f.partial" "$f"
cat "$f"`,
    INIT_RECOVERY_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
f="$HOME/.vault-ha-init.json"
vault operator init -recovery-shares="$1" -recovery-threshold="$2" -format=json > "$f.partial"
mv "$f.partial" "$f"
cat "$f"`,
    LIST_PEERS_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft list-peers -format=json`,
    NOT_ACTIVE_EXIT: 3,
    NOT_ACTIVE_MESSAGE: `vault-ha: this Vault node is not the active one; nothing was sent`,
    REMOVE_PEER_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft remove-peer "$1"`,
    RESTORE_STAGED_SNAPSHOT_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
f="$HOME/.vault-ha-restore.snap"
home=$(mktemp -d)
trap 'rm -rf "$home" "$f"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
export VAULT_CLIENT_TIMEOUT=3600
if ! HOME="$home" vault status -format=json | grep -q '"is_self": true'; then
  echo "vault-ha: this Vault node is not the active one; nothing was sent" >&2
  exit 3
fi
if [ "$1" = -force ]; then
  HOME="$home" vault operator raft snapshot restore -force "$f"
else
  HOME="$home" vault operator raft snapshot restore "$f"
fi`,
    SNAPSHOT_SAVE_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
# The CLI's own 60 s client timeout would cut a large snapshot short (api/client.go VAULT_CLIENT_TIMEOUT).
VAULT_CLIENT_TIMEOUT=3600 HOME="$home" vault operator raft snapshot save /dev/stdout`,
    STAGED_INIT_FILE: `$HOME/.vault-ha-init.json`,
    STAGED_SNAPSHOT_FILE: `$HOME/.vault-ha-restore.snap`,
    STAGE_SNAPSHOT_SCRIPT: `set -eu
umask 077
f="$HOME/.vault-ha-restore.snap"
rm -f "$f"
cat > "$f.partial"
mv "$f.partial" "$f"`,
    STEP_DOWN_SCRIPT: `set -eu
unset VAULT_TOKEN
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator step-down`,
    TAKE_STAGED_INIT_SCRIPT: `f="$HOME/.vault-ha-init.json"; for c in "$f" "$f.partial"; do if [ -s "$c" ]; then cat "$c"; exit 0; fi; done`,
};

describe("the scripts sent into the Vault pods", () => {
    for (const [name, text] of Object.entries(PINNED)) {
        it(`${name} is byte for byte the pinned text`, () => {
            assert.equal((scripts as Record<string, unknown>)[name], text);
        });
    }

    it("every exported script is pinned", () => {
        const exported = Object.keys(scripts).filter((n) => /(_SCRIPT|_FILE|_MESSAGE|_EXIT)$/.test(n));
        assert.deepEqual(exported.sort(), Object.keys(PINNED).sort());
    });

    it("every script that sends the root token (or needs none) drops the pod's VAULT_TOKEN first, and none prints it", () => {
        const withToken = [
            "LIST_PEERS_SCRIPT",
            "REMOVE_PEER_SCRIPT",
            "STEP_DOWN_SCRIPT",
            "AUTOPILOT_STATE_SCRIPT",
            "SNAPSHOT_SAVE_SCRIPT",
            "RESTORE_STAGED_SNAPSHOT_SCRIPT",
        ];
        for (const name of [...withToken, "INIT_RECOVERY_SCRIPT"]) assert.match(String(PINNED[name]), /^set -eu\nunset VAULT_TOKEN\n/, name);
        for (const [name, text] of Object.entries(PINNED)) assert.doesNotMatch(String(text), /\$\{?VAULT_TOKEN|printenv|\benv\b|set -x/, name);
    });

    it("with an auto seal init asks for recovery keys, never -key-shares (Vault answers 400)", () => {
        assert.match(String(PINNED.INIT_RECOVERY_SCRIPT), /vault operator init -recovery-shares="\$1" -recovery-threshold="\$2" -format=json/);
        assert.doesNotMatch(String(PINNED.INIT_RECOVERY_SCRIPT), /-key-shares|-key-threshold/);
    });

    it("the scripts that take the root token read it from stdin, never from an argument", () => {
        for (const name of ["LIST_PEERS_SCRIPT", "REMOVE_PEER_SCRIPT", "STEP_DOWN_SCRIPT", "AUTOPILOT_STATE_SCRIPT"]) {
            assert.match(
                String(PINNED[name]),
                /^set -eu\nunset VAULT_TOKEN\numask 077\nhome=\$\(mktemp -d\)\n.*\ncat > "\$home\/\.vault-token"\nHOME="\$home" vault /s,
                name,
            );
        }
    });
});
