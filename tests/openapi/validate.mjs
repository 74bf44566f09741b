// Validates an OpenAPI document with @seriousme/openapi-schema-validator (installed pinned,
// from tests/openapi/package-lock.json, by scripts/install-test-node-deps.sh), and checks
// that every $ref resolves.
//
// Usage: node validate.mjs NODE_PREFIX DOCUMENT.json
// Exit 0 if valid, 1 if not (the errors on stderr), 2 on a usage error.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, document] = process.argv.slice(2);
if (!prefix || !document) {
  console.error("usage: validate.mjs NODE_PREFIX DOCUMENT.json");
  process.exit(2);
}
const entry = path.join(prefix, "openapi/node_modules/@seriousme/openapi-schema-validator/index.js");
const { Validator } = await import(pathToFileURL(entry).href);
const validator = new Validator();
const result = await validator.validate(path.resolve(document));
if (!result.valid) {
  console.error(`${document} is not a valid OpenAPI document:`);
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`${document} is OpenAPI ${validator.version}, expected 3.1`);
  process.exit(1);
}
try {
  validator.resolveRefs();
} catch (e) {
  console.error(`${document} has a $ref that does not resolve: ${e.message}`);
  process.exit(1);
}
console.log(`${document}: valid OpenAPI ${validator.version}`);
