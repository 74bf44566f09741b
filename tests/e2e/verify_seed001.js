// Runs seed 001's Node.js verifyWebhook (shared/seeds/001_*.md, "Webhook İmza Doğrulama"),
// copied verbatim between the markers below, on a body read as a UTF-8 string.
//
// Usage: node verify_seed001.js BODY_FILE SIGNATURE SECRET_KEY
// Exit 0 if the signature is valid, 1 if not (or if the snippet throws, as it does for a
// signature of another length), 2 on a usage error.
"use strict";
const fs = require("fs");

// --- seed 001, verbatim ---
const crypto = require('crypto');

function verifyWebhook(payload, signature, secret) {
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expectedSignature)
  );
}
// --- end of seed 001 ---

const args = process.argv.slice(2);
if (args.length !== 3) {
  console.error("usage: verify_seed001.js BODY_FILE SIGNATURE SECRET_KEY");
  process.exit(2);
}
const [bodyFile, signature, secret] = args;
const payload = fs.readFileSync(bodyFile, "utf8");
let ok = false;
try {
  ok = verifyWebhook(payload, signature, secret);
} catch (e) {
  console.error("rejected: " + e.message);
}
process.exit(ok ? 0 : 1);
