/**
 * The deployed unsealer script is the pass the simulator runs (tests/doubles/vault/unsealerTask.ts) plus a loop: the
 * pass verbatim, after a prelude the simulator runs too, and a loop that calls the pass and then sleeps the interval.
 * If the loop changes (another sleep, a second pass, a condition), this fails and the simulated loop must follow.
 */
import { strict as assert } from "assert";
import { UNSEAL_PASS_FUNCTIONS, UNSEALER_ENV, UNSEALER_LOG_PREFIX, unsealerScript } from "../../../components/unsealer/unsealerScript";
import { DEPLOYED_LOOP, simulatedUnsealerScript, unsealerPrelude } from "../../doubles/vault/unsealerTask";

describe("unsealerScript", () => {
    it("is the prelude, the pass functions verbatim, and a loop of one pass then one sleep of the interval", () => {
        const script = unsealerScript();
        const prelude = unsealerPrelude();
        assert.equal(prelude, "set -u\numask 077\n", "the simulator runs this prelude before the pass: keep it to shell options");
        assert.ok(script.startsWith(prelude + UNSEAL_PASS_FUNCTIONS), "the pass functions follow the prelude, verbatim");
        const loop = script.slice(prelude.length + UNSEAL_PASS_FUNCTIONS.length);
        assert.equal(
            loop,
            "\n" +
                `say "watching $\{${UNSEALER_ENV.pods}} every $\{${UNSEALER_ENV.intervalSeconds}}s"\n` +
                "while :; do\n" +
                "  unseal_pass || true\n" +
                `  sleep "$\{${UNSEALER_ENV.intervalSeconds}}"\n` +
                "done\n",
        );
        assert.equal(script.split(UNSEAL_PASS_FUNCTIONS).length, 2, "the pass is there once");
        assert.ok(script.endsWith(DEPLOYED_LOOP), "the loop the simulator replaces is the deployed one");
        // The simulator runs all of it but the loop, whose sleep it replaces with its clock.
        const simulated = simulatedUnsealerScript();
        assert.equal(simulated.slice(0, script.length - DEPLOYED_LOOP.length), script.slice(0, script.length - DEPLOYED_LOOP.length));
        assert.match(simulated.slice(script.length - DEPLOYED_LOOP.length), /^while read -r _; do\n {2}unseal_pass <\/dev\/null\n/);
    });

    it("never initialises, joins, seals, prints a key's content or traces commands", () => {
        const script = unsealerScript();
        for (const forbidden of [
            /operator init/,
            /sys\/init/,
            /raft join/,
            /sys\/storage\/raft\/join/,
            /operator seal/,
            /set -x/,
            /-tls-skip-verify/,
            /VAULT_SKIP_VERIFY/,
        ]) {
            assert.doesNotMatch(script, forbidden);
        }
        // Keys reach `vault write` on stdin only: the only use of a key file is a redirection.
        const keyUses = script.split("\n").filter((line) => line.includes('"$key"'));
        assert.deepEqual(keyUses, ['    if ! VAULT_ADDR="$addr" vault write -format=json sys/unseal key=- < "$key" >/dev/null 2>"$err"; then']);
        assert.ok(UNSEAL_PASS_FUNCTIONS.startsWith(`say() { echo "${UNSEALER_LOG_PREFIX} $*"; }`));
    });
});
