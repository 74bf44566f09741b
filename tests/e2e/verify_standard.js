// Verifies a delivery with the official Standard Webhooks library (npm "standardwebhooks",
// installed by scripts/install-test-node-deps.sh; found through NODE_PATH).
//
// Usage: node verify_standard.js BODY_FILE WHSEC_SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE
// Exit 0 if the library accepts the delivery, 1 if it rejects it, 2 on a usage error.
"use strict";
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const args = process.argv.slice(2);
if (args.length !== 5) {
  console.error("usage: verify_standard.js BODY_FILE WHSEC_SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE");
  process.exit(2);
}
const [bodyFile, secret, id, timestamp, signature] = args;
const body = fs.readFileSync(bodyFile, "utf8");
try {
  new Webhook(secret).verify(body, {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signature,
  });
  process.exit(0);
} catch (e) {
  console.error("rejected: " + e.message);
  process.exit(1);
}
