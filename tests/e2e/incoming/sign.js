// Signs webhook bodies the way each provider does, with the provider's own library where
// it has one (npm, installed by scripts/install-test-node-deps.sh, found through NODE_PATH):
//   stripe     stripe.webhooks.generateTestHeaderString({payload, secret, timestamp})
//   github     @octokit/webhooks-methods sign(secret, payload)
//   standard   standardwebhooks new Webhook(secret).sign(msgId, date, payload)
//   shopify    Node's crypto, as Shopify documents it: base64 HMAC-SHA256 of the raw body
//
// Usage: node sign.js JOBS_FILE OUT_FILE
// JOBS_FILE: a JSON array of {"provider", "body_file", "secret", "timestamp" (Unix seconds,
// optional: now), "id" (standard: webhook-id)}. OUT_FILE gets a JSON array, one object of
// header name → value per job. The body is read as bytes and signed as exactly those bytes.
// Exit 0 on success, 1 on any error (printed to stderr).
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const { load } = require("./npm.js");

async function signOne(job) {
  const body = fs.readFileSync(job.body_file);
  const timestamp = job.timestamp ?? Math.floor(Date.now() / 1000);
  switch (job.provider) {
    case "stripe": {
      const { default: Stripe } = await load("stripe");
      const stripe = new Stripe("sk_test_not_used_for_signing");
      // The library takes the payload as a string and signs its UTF-8 bytes.
      const header = stripe.webhooks.generateTestHeaderString({ payload: body.toString("utf8"), secret: job.secret, timestamp });
      return { "Stripe-Signature": header };
    }
    case "github": {
      const { sign } = await load("@octokit/webhooks-methods");
      return { "X-Hub-Signature-256": await sign(job.secret, body.toString("utf8")) };
    }
    case "standard": {
      const { Webhook } = (await load("standardwebhooks")).default;
      const signature = new Webhook(job.secret).sign(job.id, new Date(timestamp * 1000), body.toString("utf8"));
      return { "webhook-id": job.id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    }
    case "shopify":
      return { "X-Shopify-Hmac-Sha256": crypto.createHmac("sha256", job.secret).update(body).digest("base64") };
    default:
      throw new Error(`unknown provider ${job.provider}`);
  }
}

async function main() {
  const [jobsFile, outFile] = process.argv.slice(2);
  if (!jobsFile || !outFile) throw new Error("usage: sign.js JOBS_FILE OUT_FILE");
  const jobs = JSON.parse(fs.readFileSync(jobsFile, "utf8"));
  const out = [];
  for (const job of jobs) out.push(await signOne(job));
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
