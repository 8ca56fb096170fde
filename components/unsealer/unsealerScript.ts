/**
 * What the in-cluster unsealer runs: a POSIX sh script for the Vault image's busybox shell, talking to each Vault pod
 * with the Vault CLI only (no kubectl, no Kubernetes API, no token). One pass looks at every pod of the release by
 * its headless-service name; the loop runs a pass, then sleeps. The simulator runs the same pass text against its
 * model (tests/doubles/vault/unsealerTask.ts), and tests/unit/unsealer/unsealerScript.test.ts pins how the loop
 * wraps it.
 *
 * What it relies on, read upstream:
 * - `vault status` exits 0 unsealed, 2 sealed, 1 on any error (command/status.go); its JSON names `initialized`,
 *   `sealed`, `t`, `n`, `removed_from_cluster` (api/sys_seal.go SealStatusResponse). A sealed node reports no
 *   cluster id (vault/core.go GetSealStatus fills ClusterName/ClusterID only when unsealed), so a sealed pod is
 *   identified by where it is (this release's pod names, and with TLS this stack's CA) and by its seal
 *   configuration (t of n), never by a cluster id.
 * - `vault write sys/unseal key=-` reads the share from stdin (command/base_helpers.go parseArgsData): no key in an
 *   argv. Vault keeps distinct shares until the threshold and ignores a share it already holds
 *   (vault/core.go unsealFragment), so the unsealer and `pulumi up` may unseal the same pod at once with shares of
 *   the same key. A wrong combination fails with "invalid key" and resets the progress: the pod is then left
 *   alone for a while (backing off), and no key is ever printed (the API never echoes one back).
 * - A node that has not joined the raft cluster reports `initialized: false` and is left to `pulumi up`, which joins
 *   it: the unsealer never initialises and never joins. A node the cluster removed is left alone too.
 */

/** The environment the script reads, named once: the manifests set them, the simulator passes them. */
export const UNSEALER_ENV = {
    /** Space-separated host names of the pods (vault-0.vault-internal ...). */
    pods: "UNSEALER_PODS",
    /** http or https. */
    scheme: "UNSEALER_SCHEME",
    port: "UNSEALER_PORT",
    /** The folder holding the key shares, one file each (key-1 ... key-<threshold>). */
    keysDir: "UNSEALER_KEYS_DIR",
    /** The seal configuration the keys belong to: a pod that reports another one is not sent any key. */
    threshold: "UNSEALER_THRESHOLD",
    shares: "UNSEALER_SHARES",
    /**
     * The cluster id the active node reported at the bootstrap's verify; empty when the stack's state predates it,
     * and then the first unsealed pod's is taken.
     */
    clusterId: "UNSEALER_CLUSTER_ID",
    /** A writable folder for what a pass remembers: each pod's back-off and the last thing said of it. */
    stateDir: "UNSEALER_STATE_DIR",
    intervalSeconds: "UNSEALER_INTERVAL_SECONDS",
    /** The longest back-off, in passes. */
    maxSkip: "UNSEALER_MAX_SKIP_PASSES",
} as const;

/** Seconds between passes: a restarted pod is unsealed within about this long after its API answers. */
export const UNSEALER_INTERVAL_SECONDS = 5;
/** After a refusal a pod is skipped for 1, 2, 4 ... passes, at most this many (about 5 minutes at 5 s a pass). */
export const UNSEALER_MAX_SKIP_PASSES = 64;
export const UNSEALER_LOG_PREFIX = "vault-ha-unsealer:";

const E = UNSEALER_ENV;

/**
 * The functions of one pass; `unseal_pass` returns non-zero when a pod refused. Nothing is read from stdin and
 * nothing secret is written anywhere but Vault's stdin: the key files go to `vault write` by redirection.
 */
export const UNSEAL_PASS_FUNCTIONS = `say() { echo "${UNSEALER_LOG_PREFIX} $*"; }

# field JSON NAME: the value of a top-level scalar of the CLI's indented JSON (quotes and comma removed).
field() { printf '%s\\n' "$1" | sed -n "s/^  \\"$2\\": \\"\\{0,1\\}\\([^\\",]*\\)\\"\\{0,1\\},\\{0,1\\}$/\\1/p" | head -n 1; }

# report HOST MESSAGE: says MESSAGE once, until something else is said of HOST.
report() {
  if [ "$(cat "$\{${E.stateDir}}/$1.said" 2>/dev/null)" != "$2" ]; then
    say "$1: $2"
    printf '%s' "$2" > "$\{${E.stateDir}}/$1.said"
  fi
}

# back_off HOST: skips HOST for 1, 2, 4 ... passes (at most ${"$"}${E.maxSkip}).
back_off() {
  level=$(cat "$\{${E.stateDir}}/$1.level" 2>/dev/null || echo 0)
  skip=1; i=0
  while [ "$i" -lt "$level" ] && [ "$skip" -lt "$\{${E.maxSkip}}" ]; do skip=$((skip * 2)); i=$((i + 1)); done
  [ "$skip" -gt "$\{${E.maxSkip}}" ] && skip=$\{${E.maxSkip}}
  echo "$skip" > "$\{${E.stateDir}}/$1.skip"
  echo $((level + 1)) > "$\{${E.stateDir}}/$1.level"
}

forget() { rm -f "$\{${E.stateDir}}/$1.skip" "$\{${E.stateDir}}/$1.level" "$\{${E.stateDir}}/$1.said"; }

# first_error FILE: the line of the CLI's error that says why (Vault's "* ..." line, else the first line).
first_error() { grep -m 1 '^\\* ' "$1" 2>/dev/null || head -n 1 "$1"; }

# same_cluster HOST JSON: whether an unsealed node reports the cluster id the first unsealed node did. One that does
# not (another cluster's data that these keys open) is not sent a key again while this container lives.
same_cluster() {
  id=$(field "$2" cluster_id)
  known=$\{${E.clusterId}:-$(cat "$\{${E.stateDir}}/cluster-id" 2>/dev/null || true)}
  if [ -z "$known" ] && [ -n "$id" ]; then
    printf '%s' "$id" > "$\{${E.stateDir}}/cluster-id"
    return 0
  fi
  if [ -n "$id" ] && [ "$id" != "$known" ]; then
    report "$1" "reports cluster id $id, not this cluster's $known: another cluster's; no key is sent to it again"
    touch "$\{${E.stateDir}}/$1.foreign"
    return 1
  fi
  return 0
}

# unseal_pod HOST: 0 unless Vault refused a key or the pod holds another seal configuration.
unseal_pod() {
  host=$1
  skip=$(cat "$\{${E.stateDir}}/$host.skip" 2>/dev/null || echo 0)
  if [ "$skip" -gt 0 ]; then
    echo $((skip - 1)) > "$\{${E.stateDir}}/$host.skip"
    return 0
  fi
  addr="$\{${E.scheme}}://$host:$\{${E.port}}"
  err="$\{${E.stateDir}}/$host.err"
  status=$(VAULT_ADDR="$addr" vault status -format=json 2>"$err")
  rc=$?
  if [ "$rc" -eq 0 ]; then
    same_cluster "$host" "$status" || return 1
    if [ -f "$\{${E.stateDir}}/$host.said" ]; then say "$host: unsealed"; fi
    forget "$host"
    return 0
  fi
  if [ -f "$\{${E.stateDir}}/$host.foreign" ]; then
    return 0
  fi
  if [ "$rc" -ne 2 ]; then
    # Not answering (starting, restarting, gone): nothing to do until it does.
    report "$host" "not answering yet: $(first_error "$err")"
    return 0
  fi
  if [ -z "$(field "$status" initialized)" ]; then
    # Exit 2 is "sealed" even when the CLI printed nothing it could read (command/status.go).
    report "$host" "sealed, but its status could not be read: $(first_error "$err")"
    return 0
  fi
  if [ "$(field "$status" initialized)" != true ]; then
    report "$host" "sealed and not part of the raft cluster yet: left to pulumi up, which joins it"
    return 0
  fi
  if [ "$(field "$status" removed_from_cluster)" = true ]; then
    report "$host" "removed from the raft cluster: left alone (the README's Troubleshooting says how to bring it back)"
    return 0
  fi
  t=$(field "$status" t)
  n=$(field "$status" n)
  if [ "$t" != "$\{${E.threshold}}" ] || [ "$n" != "$\{${E.shares}}" ]; then
    report "$host" "its seal takes $t of $n key shares, the keys held here are for $\{${E.threshold}} of $\{${E.shares}}: not sent (another cluster's data, or a rekey: hand in the new keys and run pulumi up)"
    back_off "$host"
    return 1
  fi
  say "$host: sealed, unsealing"
  # write's answer is not read: the CLI prints it as a secret, the seal status nested under "data"
  # (api/secret.go ParseSecret), so only the status that follows tells whether the pod is unsealed.
  for key in "$\{${E.keysDir}}"/key-*; do
    if ! VAULT_ADDR="$addr" vault write -format=json sys/unseal key=- < "$key" >/dev/null 2>"$err"; then
      report "$host" "Vault refused the unseal: $(first_error "$err")"
      back_off "$host"
      return 1
    fi
  done
  status=$(VAULT_ADDR="$addr" vault status -format=json 2>"$err")
  if [ $? -eq 0 ]; then
    same_cluster "$host" "$status" || return 1
    say "$host: unsealed"
    forget "$host"
    return 0
  fi
  if [ "$(field "$status" progress)" != 0 ]; then
    # Each share was answered 200, yet some wait uncombined: a request failed after Vault had counted it, or
    # someone else's shares are mixed in. Vault resets on the next full set; leave it a while.
    report "$host" "keys sent, still sealed with $(field "$status" progress) share(s) waiting"
    back_off "$host"
    return 1
  fi
  # A node that joined finishes unsealing once it has the leader's data; the next pass sees it unsealed.
  report "$host" "keys accepted, still sealed (a joining node finishes once it has the leader's data)"
  return 0
}

# keys_changed: whether the mounted keys are new since the last pass (the kubelet swaps the Secret's ..data link).
keys_changed() {
  now=$(readlink "$\{${E.keysDir}}/..data" 2>/dev/null || true)
  [ "$now" = "$(cat "$\{${E.stateDir}}/keys-version" 2>/dev/null || true)" ] && return 1
  printf '%s' "$now" > "$\{${E.stateDir}}/keys-version"
  return 0
}

unseal_pass() {
  refused=0
  # New keys (handed in after a rekey or a restore) deserve a try at once: every back-off starts over.
  if keys_changed; then rm -f "$\{${E.stateDir}}"/*.skip "$\{${E.stateDir}}"/*.level "$\{${E.stateDir}}"/*.foreign; fi
  for pod_host in $\{${E.pods}}; do
    unseal_pod "$pod_host" || refused=1
  done
  # The liveness probe's sign that the loop still turns (UNSEALER_HEARTBEAT).
  touch "$\{${E.stateDir}}/heartbeat"
  return $refused
}
`;

/** The container's whole script: the pass, forever, at a fixed interval (the back-off is per pod, in the pass). */
export function unsealerScript(): string {
    return `set -u
umask 077
${UNSEAL_PASS_FUNCTIONS}
say "watching $\{${E.pods}} every $\{${E.intervalSeconds}}s"
while :; do
  unseal_pass || true
  sleep "$\{${E.intervalSeconds}}"
done
`;
}
