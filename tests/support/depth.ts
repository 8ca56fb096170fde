/**
 * The tag of tests that repeat a proof in another variant (another TLS mode, more pods) and cost seconds each: `npm test`
 * leaves them out to stay within its time budget, `npm run test:depth` runs only them, and CI (.ci/run) runs both.
 */
export const DEPTH = " @depth";
