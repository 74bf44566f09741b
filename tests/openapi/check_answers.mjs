// Checks real answers of the server against the OpenAPI document: each sample's body must
// match the schema the document gives for its path, method and status (JSON Schema 2020-12,
// Ajv, pinned by tests/openapi/package-lock.json). A status the document does not list for
// that operation is a failure too.
//
// Usage: node check_answers.mjs NODE_PREFIX DOCUMENT.json SAMPLES.json
//   SAMPLES.json: [{"method": "POST", "path": "/api/webhooks" (the documented template),
//                   "status": 201, "body": <the JSON answer>}, ...]
// Exit 0 if every sample matches, 1 if one does not (each failure on stderr), 2 on a usage error.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, documentFile, samplesFile] = process.argv.slice(2);
if (!prefix || !documentFile || !samplesFile) {
  console.error("usage: check_answers.mjs NODE_PREFIX DOCUMENT.json SAMPLES.json");
  process.exit(2);
}
const load = (name) => import(pathToFileURL(path.join(prefix, "openapi/node_modules", name)).href);
const Ajv2020 = (await load("ajv/dist/2020.js")).default.default;
const addFormats = (await load("ajv-formats/dist/index.js")).default.default;

const doc = JSON.parse(fs.readFileSync(documentFile, "utf8"));
const samples = JSON.parse(fs.readFileSync(samplesFile, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, "openapi.json");  // "#/components/..." refs resolve inside it

const pointer = (...parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const resolve = (node) => {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split("/").reduce((n, p) => n[p.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  }
  return node;
};

let failures = 0;
for (const s of samples) {
  const where = `${s.method} ${s.path} ${s.status}`;
  const operation = doc.paths?.[s.path]?.[s.method.toLowerCase()];
  if (!operation) {
    console.error(`${where}: not in the document`);
    failures++;
    continue;
  }
  const key = String(s.status);
  const answerRef = operation.responses[key] ? ["paths", s.path, s.method.toLowerCase(), "responses", key] : null;
  if (!answerRef) {
    console.error(`${where}: the document does not list this status for the operation`);
    failures++;
    continue;
  }
  const answer = resolve(operation.responses[key]);
  const json = answer.content?.["application/json"];
  if (!json) {
    if (s.body !== null && s.body !== undefined) {
      console.error(`${where}: the document gives no JSON body, the server sent one`);
      failures++;
    }
    continue;
  }
  // Compile the schema where it sits, so its relative refs resolve in the document.
  const schemaPointer = operation.responses[key].$ref
    ? operation.responses[key].$ref + "/content/application~1json/schema"
    : "#/" + pointer(...answerRef, "content", "application/json", "schema");
  const validate = ajv.getSchema("openapi.json" + schemaPointer);
  if (!validate(s.body)) {
    console.error(`${where}: the answer does not match its schema: ${ajv.errorsText(validate.errors)}`);
    console.error("  answer: " + JSON.stringify(s.body).slice(0, 2000));
    failures++;
  }
}
console.log(`${samples.length - failures} of ${samples.length} answers match docs/openapi.json`);
process.exit(failures === 0 ? 0 : 1);
