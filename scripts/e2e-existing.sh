# shellcheck shell=bash
# Sourced by scripts/e2e.sh: the phases of E2E_CLUSTER=existing (its own kind cluster standing for a user's, the checks
# through the stack's port-forward, and what must be left after the destroy). Sourcing it only defines functions; they
# use e2e.sh's variables ($ctx, $cluster, $stack, $state, $tls, $pf_pid) and helpers (wait_for, expect_lines, step).
# Portable to macOS's bash 3.2.

# namespace_gone NAME: the namespace does not exist (a deleted one is Terminating until its objects are gone).
namespace_gone() {
  ! kubectl --context "$ctx" get namespace "$1" -o name >/dev/null 2>&1
}

# vault_ha_objects: every object vault-ha's releases leave in the Vault namespace, other than what Kubernetes puts in
# every namespace (the default ServiceAccount and the kube-root-ca.crt ConfigMap) and the raft volumes; one per line.
vault_ha_objects() {
  local all
  all=$(kubectl --context "$ctx" -n vault get \
    statefulsets,deployments,pods,services,ingresses,secrets,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets -o name) || return 1
  printf '%s\n' "$all" | grep -v -x -e serviceaccount/default -e configmap/kube-root-ca.crt -e '' || true
}

# cluster_wide_leftovers: cluster-scoped objects of the Vault, cert-manager or ingress-nginx releases; one per line.
cluster_wide_leftovers() {
  local all
  all=$(kubectl --context "$ctx" get \
    customresourcedefinitions,clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations,ingressclasses -o name) || return 1
  printf '%s\n' "$all" | grep -E 'vault|cert-manager|nginx' || true
}

# no_lines COMMAND...: COMMAND succeeds and prints nothing (for wait_for).
no_lines() {
  local out
  out=$("$@") || return 1
  [ -z "$out" ]
}

# create_existing_cluster: the kind cluster E2E_CLUSTER=existing deploys onto, as a user's cluster would be: the
# pinned node image, 3 workers (one per raft peer), no host ports, nothing of vault-ha's on it. kind reads the config
# from stdin with --config - and --wait waits for the control plane (kind pkg/cmd/kind/create/cluster/createcluster.go,
# configOption and the wait flag); kubectl wait then waits for the workers too.
create_existing_cluster() {
  local image
  image=$("$VAULT_HA_ROOT/node_modules/.bin/ts-node" --transpile-only -e 'console.log(require("./components/config/versions").KIND_NODE_IMAGE)')
  kind_created=true
  printf '%s\n' 'kind: Cluster' 'apiVersion: kind.x-k8s.io/v1alpha4' 'nodes:' '- role: control-plane' '- role: worker' '- role: worker' '- role: worker' |
    kind create cluster --name "$cluster" --image "$image" --config - --wait 180s
  kubectl --context "$ctx" wait --for=condition=Ready nodes --all --timeout=180s
}

# existing_checks: with cluster: existing and vaultServiceType ClusterIP: one raft cluster of 3 unsealed pods, and a
# kv read through the port-forward the stack's outputs give the user (portForwardCommand, then vaultAddr).
existing_checks() {
  for i in 0 1 2; do
    wait_for "pod vault-$i Running" 300 sh -c "kubectl --context $ctx -n vault get pod vault-$i -o jsonpath='{.status.phase}' | grep -qx Running"
  done
  # Vault's API Service (the chart's vault-ui, whose type vaultServiceType sets): no NodePort, no load balancer.
  [ "$(kubectl --context "$ctx" -n vault get service vault-ui -o jsonpath='{.spec.type}')" = ClusterIP ]
  [ "$(pulumi stack output --stack "$stack" kubeContext)" = "$ctx" ]
  # Nothing of kind's was made by vault-ha: the nodes carry no owner mark.
  expect_lines "nodes labelled vault-ha.dev/owner" 0 kubectl --context "$ctx" get nodes -l vault-ha.dev/owner -o name

  step "vault is one unsealed raft cluster: 1 leader, 2 voting followers"
  pulumi stack output --stack "$stack" raftPeers --json | node -e '
    const peers = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const ok = peers.length === 3 && peers.filter((p) => p.leader).length === 1 && peers.every((p) => p.voter);
    console.log(peers.map((p) => `${p.node_id}${p.leader ? " (leader)" : ""}`).join(", "));
    process.exit(ok ? 0 : 1);'
  for i in 0 1 2; do
    kubectl --context "$ctx" -n vault exec vault-$i -c vault -- vault status >/dev/null   # exit 0 = unsealed
  done

  step "the kv secret through the stack's port-forward"
  local pf_cmd vault_addr
  pf_cmd=$(pulumi stack output --stack "$stack" portForwardCommand)
  vault_addr=$(pulumi stack output --stack "$stack" vaultAddr)
  echo "port-forward: $pf_cmd; VAULT_ADDR=$vault_addr"
  case "$pf_cmd" in kubectl\ *port-forward*) ;; *) echo "e2e: portForwardCommand is not a kubectl port-forward: $pf_cmd" >&2; return 1 ;; esac
  # exec: the pid is kubectl's own, so that killing it ends the forward.
  sh -c "exec $pf_cmd" >"$state/port-forward.log" 2>&1 &
  pf_pid=$!
  local curl_tls="" verified=""
  if [ "$tls" = true ]; then
    pulumi stack output --stack "$stack" caCert > "$state/ca.pem"
    curl_tls="--cacert $state/ca.pem"
    verified=" (TLS verified)"
  fi
  # The port-forward goes to vault-active; standbyok=true all the same, should it reach a standby (429 otherwise).
  # shellcheck disable=SC2086 # curl_tls is empty or two words
  wait_for "Vault answering at $vault_addr through the port-forward$verified" 60 curl -fsS $curl_tls "$vault_addr/v1/sys/health?standbyok=true"
  # The root token goes into a private header file (curl -H @file), never into an argv or the environment.
  ( umask 077; { printf 'X-Vault-Token: '; pulumi stack output --stack "$stack" rootToken --show-secrets; } > "$state/token.header" )
  # shellcheck disable=SC2086
  curl -fsS $curl_tls -H @"$state/token.header" "$vault_addr/v1/mysecret/data/logins/study" |
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); if (r.data.data.username !== "demo") process.exit(1); console.log("ok: mysecret/logins/study: username=demo");'
  rm -f "$state/token.header"
  kill "$pf_pid" 2>/dev/null || true
  pf_pid=""
}

# existing_leftovers: after `pulumi destroy` on an existing cluster, nothing of vault-ha's is left but the raft volumes,
# which raftVolumesOnDestroy: keep keeps (with the Vault namespace that holds them); then they are deleted by hand, as
# the README says.
existing_leftovers() {
  local ns
  for ns in cert-manager ingress-nginx whoami; do
    wait_for "namespace $ns gone" 300 namespace_gone "$ns"
  done
  wait_for "no object of vault-ha's left in namespace vault" 300 no_lines vault_ha_objects
  wait_for "no cluster-wide object of vault, cert-manager or ingress-nginx left" 120 no_lines cluster_wide_leftovers
  expect_lines "raft volumes kept (raftVolumesOnDestroy: keep)" 3 kubectl --context "$ctx" -n vault get pvc -o name
  for i in 0 1 2; do kubectl --context "$ctx" -n vault get pvc "data-vault-$i" -o name; done
  # The keys that open the kept volumes were moved into the stack's backup folder, not deleted.
  local kept
  kept=(backups/vault-ha."$stack"/*.kept-volumes.init.json)
  if [ ! -f "${kept[0]}" ] || [ "${#kept[@]}" -ne 1 ]; then
    echo "e2e: expected the kept volumes' key file in backups/vault-ha.$stack" >&2
    return 1
  fi
  echo "ok: the kept volumes' keys are in ${kept[0]}"
  kubectl --context "$ctx" -n vault delete pvc data-vault-0 data-vault-1 data-vault-2 --wait=true
  kubectl --context "$ctx" delete namespace vault --wait=true
  rm -f "${kept[0]}"
  wait_for "namespace vault gone" 300 namespace_gone vault
}
