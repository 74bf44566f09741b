// Verifies an asymmetric (ed25519) Standard Webhooks signature with Node's own crypto, an
// implementation independent of ulak's (OpenSSL): the "v1a,<base64>" entries of
// webhook-signature against the webhook's "whpk_<base64 of 32 bytes>" public key, over
// "{webhook-id}.{webhook-timestamp}.{body}".
//
// Usage: node verify_ed25519.js BODY_FILE WHPK_PUBLIC_KEY WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE
// Exit 0 if one v1a entry verifies, 1 if none does, 2 on a usage error.
"use strict";
const crypto = require("crypto");
const fs = require("fs");

const args = process.argv.slice(2);
if (args.length !== 5 || !args[1].startsWith("whpk_")) {
  console.error("usage: verify_ed25519.js BODY_FILE WHPK_PUBLIC_KEY WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE");
  process.exit(2);
}
const [bodyFile, whpk, id, timestamp, header] = args;
const raw = Buffer.from(whpk.slice("whpk_".length), "base64");
if (raw.length !== 32) {
  console.error("the public key is not 32 bytes");
  process.exit(2);
}
const key = crypto.createPublicKey({
  key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
  format: "jwk",
});
const message = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), fs.readFileSync(bodyFile)]);
for (const entry of header.split(" ")) {
  const [version, signature] = entry.split(",");
  if (version !== "v1a" || !signature) continue;
  if (crypto.verify(null, message, key, Buffer.from(signature, "base64"))) process.exit(0);
}
console.error("rejected: no v1a signature verifies");
process.exit(1);
