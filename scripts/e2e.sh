#!/usr/bin/env bash
# npm run e2e: the end-to-end test for a machine with Docker, kind, kubectl and the Pulumi CLI (it cannot run where
# there is no Docker engine). It deploys a throwaway stack "e2e" (cluster vault-e2e, state in a temp folder), checks
# what a user would check, runs `pulumi preview --expect-no-changes`, and destroys everything, also on failure.
# KEEP=1 keeps the cluster for inspection; E2E_TLS=false tests the plain-HTTP lab. It needs ports 80, 443, 30000 and 30001 free (stop the dev stack first).
set -euo pipefail
cd "$(dirname "$0")/.."

stack=e2e
cluster=vault-e2e
state=$(mktemp -d)
export PULUMI_BACKEND_URL="file://$state"
# A throwaway stack in a throwaway backend: its passphrase protects nothing that outlives the test.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-vault-ha-e2e}"
export PULUMI_STACK=$stack
ctx="kind-$cluster"

step() { printf '\n=== %s\n' "$*"; }
# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 2 s until it succeeds; fails naming what it awaited.
wait_for() {
  local what=$1 limit=$2 start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= limit )); then echo "e2e: timed out after ${limit}s waiting for: $what" >&2; return 1; fi
    sleep 2
  done
  echo "ok: $what ($(( SECONDS - start ))s)"
}
cleanup() {
  local status=$?
  if [ "${KEEP:-0}" = 1 ]; then echo "KEEP=1: leaving stack $stack (backend $PULUMI_BACKEND_URL) and cluster $cluster"; exit $status; fi
  step "destroy"
  pulumi destroy --stack $stack --yes --skip-preview || kind delete cluster --name $cluster
  rm -rf "$state" Pulumi.$stack.yaml
  exit $status
}
trap cleanup EXIT

step "deploy"
[ -d node_modules ] || npm ci
pulumi stack init $stack --secrets-provider passphrase
pulumi config set --stack $stack vault-ha:clusterName $cluster
tls=${E2E_TLS:-true}
pulumi config set --stack $stack vault-ha:tls "$tls"
npx ts-node --transpile-only scripts/preflight.ts --stack $stack
pulumi up --stack $stack --yes --skip-preview

step "check"
whoami=$(pulumi stack output --stack $stack whoamiUrl)
wait_for "whoami answering at $whoami" 120 curl -fsS "$whoami"
curl -fsS "$whoami" | grep -q '^Hostname: whoami-'
for i in 0 1 2; do
  wait_for "pod vault-$i Running" 300 sh -c "kubectl --context $ctx -n vault get pod vault-$i -o jsonpath='{.status.phase}' | grep -qx Running"
done
[ "$(kubectl --context $ctx get node -l ingress-ready=true -o name | wc -l)" = 1 ]
[ "$(kubectl --context $ctx get nodes --no-headers | wc -l)" = 4 ]

step "vault is one unsealed raft cluster: 1 leader, 2 voting followers"
pulumi stack output --stack $stack raftPeers --json | node -e '
  const peers = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const ok = peers.length === 3 && peers.filter((p) => p.leader).length === 1 && peers.every((p) => p.voter);
  console.log(peers.map((p) => `${p.node_id}${p.leader ? " (leader)" : ""}`).join(", "));
  process.exit(ok ? 0 : 1);'
vault_addr=$(pulumi stack output --stack $stack vaultAddr)
ingress_url=$(pulumi stack output --stack $stack ingressUrl)
host=${ingress_url#*://}
if [ "$tls" = true ]; then
  pulumi stack output --stack $stack caCert > "$state/ca.pem"
  # Both front doors answer from a certificate verified with the cluster CA: the NodePort, and ingress passthrough.
  wait_for "Vault answering at $vault_addr (TLS verified)" 60 curl -fsS --cacert "$state/ca.pem" "$vault_addr/v1/sys/health"
  wait_for "Vault answering at $ingress_url (passthrough, TLS verified)" 60 \
    curl -fsS --cacert "$state/ca.pem" --resolve "$host:443:127.0.0.1" "$ingress_url/v1/sys/health"
else
  case "$vault_addr" in http://*) ;; *) echo "e2e: tls=false but vaultAddr is $vault_addr" >&2; exit 1 ;; esac
  wait_for "Vault answering at $vault_addr" 60 curl -fsS "$vault_addr/v1/sys/health"
  wait_for "Vault answering at $ingress_url" 60 curl -fsS --resolve "$host:80:127.0.0.1" "$ingress_url/v1/sys/health"
fi
[ "$(pulumi stack output --stack $stack kvSecretPath)" = mysecret/logins/study ]
for i in 0 1 2; do
  kubectl --context $ctx -n vault exec vault-$i -- vault status >/dev/null   # exit 0 = unsealed
done
# The root token works, and the proof's secret is there (token on stdin into a throwaway token file: never argv or env).
pulumi stack output --stack $stack rootToken --show-secrets |
  kubectl --context $ctx -n vault exec -i vault-0 -- sh -c 'umask 077; h=$(mktemp -d); cat > "$h/.vault-token"; HOME="$h" vault kv get -field=username mysecret/logins/study | grep -qx demo; rc=$?; rm -rf "$h"; exit $rc'

step "a second up changes nothing"
pulumi preview --stack $stack --expect-no-changes

step "a deleted pod comes back sealed; the next up unseals it, and only then is there nothing to do"
kubectl --context $ctx -n vault delete pod vault-1 --wait=true
wait_for "pod vault-1 Running again" 300 sh -c "kubectl --context $ctx -n vault get pod vault-1 -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}' | grep -q ."
if pulumi preview --stack $stack --expect-no-changes >/dev/null 2>&1; then
  echo "e2e: the preview did not propose to unseal the recreated vault-1" >&2; exit 1
fi
pulumi up --stack $stack --yes --skip-preview
kubectl --context $ctx -n vault exec vault-1 -- vault status >/dev/null
pulumi preview --stack $stack --expect-no-changes

step "passed"
