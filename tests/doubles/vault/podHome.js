// @ts-check
/**
 * SIMULATOR — a pod's $HOME on this machine: one folder per pod incarnation (name and uid) next to the model's state,
 * as the chart's emptyDir is one per pod (kept across container restarts, new for a recreated pod).
 */
const fs = require("fs");
const path = require("path");

/** @param {string} stateFile @param {string} incarnation "<pod>-<uid>" */
function podHome(stateFile, incarnation) {
    const dir = path.join(path.dirname(stateFile), "pods", incarnation, "home");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}

module.exports = { podHome };
