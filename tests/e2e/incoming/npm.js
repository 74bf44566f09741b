// Loads an npm package installed by scripts/install-test-node-deps.sh. NODE_PATH names that
// install's node_modules; CommonJS `require` honours it, but some of the packages
// (@octokit/webhooks-methods, jose) are ES modules only, and `import` ignores NODE_PATH. So
// the package is found under NODE_PATH by hand, its entry point read from package.json the
// way Node's resolver would for `import` ("exports" with the node/import/default
// conditions, else "main"), and imported by file URL.
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const kConditions = ["node", "import", "default"];

// Picks the target of an "exports" entry for kConditions (nested condition objects allowed).
function pickTarget(entry) {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const t = pickTarget(e);
      if (t) return t;
    }
    return null;
  }
  if (entry && typeof entry === "object") {
    for (const [key, value] of Object.entries(entry)) {
      if (!kConditions.includes(key)) continue;
      const t = pickTarget(value);
      if (t) return t;
    }
  }
  return null;
}

function entryPoint(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  let exportsField = pkg.exports;
  // {".": …, "./sub": …} or a bare condition object / string standing for ".".
  if (exportsField && typeof exportsField === "object" && !Array.isArray(exportsField) &&
      Object.keys(exportsField).some((k) => k.startsWith("."))) {
    exportsField = exportsField["."];
  }
  const target = exportsField !== undefined ? pickTarget(exportsField) : pkg.main || "index.js";
  if (!target) throw new Error(`${dir}: no entry point for conditions ${kConditions.join(", ")}`);
  return path.join(dir, target);
}

// Returns the module namespace (a CommonJS package's exports are under .default).
async function load(name) {
  const roots = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  for (const root of roots) {
    const dir = path.join(root, name);
    if (fs.existsSync(path.join(dir, "package.json"))) return import(pathToFileURL(entryPoint(dir)).href);
  }
  throw new Error(`npm package ${name} is not installed under NODE_PATH=${process.env.NODE_PATH || ""} ` +
                  "(scripts/install-test-node-deps.sh installs it)");
}

module.exports = { load };
