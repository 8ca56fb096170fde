// @ts-check
/**
 * Test speed only. Pulumi records a stack trace for every promise it makes (@pulumi/pulumi runtime/debuggable.js,
 * debuggablePromise: `new Error().stack`), to name leaked promises at exit. Under ts-node every stack trace is
 * source-mapped frame by frame (@cspotcode/source-map-support), which made these traces about 5% of the CPU time of
 * `npm test`. Those traces alone are formatted as V8 formats them, unmapped; every other stack (a failing test's, an
 * error's) is still source-mapped. Loaded by .mocharc.json after ts-node has installed source-map-support.
 */
"use strict";
const mapped = Error.prepareStackTrace;
if (typeof mapped === "function") {
    Error.prepareStackTrace = function prepareStackTrace(error, callSites) {
        if (callSites[0]?.getFunctionName() === "debuggablePromise") {
            return `${error}${callSites.map((site) => `\n    at ${site}`).join("")}`;
        }
        return mapped(error, callSites);
    };
}
