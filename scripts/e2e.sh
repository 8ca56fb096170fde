#!/usr/bin/env bash
# npm run e2e: the end-to-end test for a machine with Docker, kind, kubectl and the Pulumi CLI (it cannot run where
# there is no Docker engine). It deploys a throwaway stack "e2e" (cluster vault-e2e, state in a temp folder), checks
# what a user would check, runs `pulumi preview --expect-no-changes`, and destroys everything, also on failure.
# KEEP=1 keeps the cluster for inspection. It needs ports 80, 443, 30000 and 30001 free (stop the dev stack first).
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

step "a second up changes nothing"
pulumi preview --stack $stack --expect-no-changes

step "passed"
