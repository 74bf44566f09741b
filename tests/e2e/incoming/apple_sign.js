// Signs App Store Server Notifications V2 with jose (npm), as Apple does: a compact JWS
// whose protected header is {"alg", "x5c": [leaf, intermediate, root] (base64 DER)}, the
// notification's data carrying signedTransactionInfo and signedRenewalInfo signed the same
// way. Then checks each result with Apple's own @apple/app-store-server-library
// (SignedDataVerifier, online checks off, so validity is judged at signedDate), trusting
// the given root, so a test knows whether its vector is one Apple's library accepts.
//
// Usage: node apple_sign.js SPEC_FILE OUT_FILE
// SPEC_FILE: {"pki_dir": "<make_apple_pki.sh output>", "trusted_root": "root",
//   "jobs": [{"name", "leaf": "leaf", "intermediate": "intermediate", "root": "root",
//             "alg": "ES256" | "ES384" | "HS256", "notification": {...},
//             "transaction": {...} (optional), "renewal": {...} (optional),
//             "alter": {...} (optional: merged into the payload after signing),
//             "nested": {"leaf", "intermediate", "root", "alg"} (optional: signs the
//               transaction and renewal info with another chain than the notification),
//             "check": {"bundle_id", "environment": "Sandbox" | "Production", "app_apple_id"}}]}
// OUT_FILE gets {"<name>": {"signed_payload", "library": {"accepted": bool, "error",
//   "notification", "transaction", "renewal"}}}.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { load } = require("./npm.js");

const kHs256Key = new TextEncoder().encode("a shared secret is not how Apple signs");

function pemPath(dir, name) {
  return path.join(dir, name + ".pem");
}

function derBase64(dir, name) {
  return new crypto.X509Certificate(fs.readFileSync(pemPath(dir, name))).raw.toString("base64");
}

async function signJws(jose, dir, job, payload) {
  const x5c = [job.leaf, job.intermediate, job.root].map((name) => derBase64(dir, name));
  const key = job.alg === "HS256"
      ? kHs256Key
      : await jose.importPKCS8(fs.readFileSync(path.join(dir, job.leaf + ".key"), "utf8"), job.alg);
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: job.alg, x5c })
      .sign(key);
}

function alterPayload(compact, changes) {
  const [header, payload, signature] = compact.split(".");
  const decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  Object.assign(decoded, changes);
  return [header, Buffer.from(JSON.stringify(decoded)).toString("base64url"), signature].join(".");
}

function describe(apple, e) {
  if (e instanceof apple.VerificationException) {
    return "VerificationException " + (apple.VerificationStatus[e.status] ?? e.status);
  }
  return String(e && e.message ? e.message : e);
}

async function checkWithLibrary(apple, spec, job, signedPayload) {
  const root = new crypto.X509Certificate(fs.readFileSync(pemPath(spec.pki_dir, spec.trusted_root))).raw;
  const environment = job.check.environment === "Production" ? apple.Environment.PRODUCTION : apple.Environment.SANDBOX;
  const verifier = new apple.SignedDataVerifier([root], false, environment, job.check.bundle_id, job.check.app_apple_id);
  const result = { accepted: false };
  try {
    result.notification = await verifier.verifyAndDecodeNotification(signedPayload);
    const data = result.notification.data || {};
    if (data.signedTransactionInfo) {
      result.transaction = await verifier.verifyAndDecodeTransaction(data.signedTransactionInfo);
    }
    if (data.signedRenewalInfo) result.renewal = await verifier.verifyAndDecodeRenewalInfo(data.signedRenewalInfo);
    result.accepted = true;
  } catch (e) {
    result.error = describe(apple, e);
  }
  return result;
}

async function main() {
  const [specFile, outFile] = process.argv.slice(2);
  if (!specFile || !outFile) throw new Error("usage: apple_sign.js SPEC_FILE OUT_FILE");
  const spec = JSON.parse(fs.readFileSync(specFile, "utf8"));
  const jose = await load("jose");
  const apple = (await load("@apple/app-store-server-library")).default;
  const out = {};
  for (const job of spec.jobs) {
    const notification = JSON.parse(JSON.stringify(job.notification));
    notification.data = notification.data || {};
    const nested = job.nested ? { ...job, ...job.nested } : job;
    if (job.transaction) notification.data.signedTransactionInfo = await signJws(jose, spec.pki_dir, nested, job.transaction);
    if (job.renewal) notification.data.signedRenewalInfo = await signJws(jose, spec.pki_dir, nested, job.renewal);
    let signedPayload = await signJws(jose, spec.pki_dir, job, notification);
    if (job.alter) signedPayload = alterPayload(signedPayload, job.alter);
    out[job.name] = { signed_payload: signedPayload, library: await checkWithLibrary(apple, spec, job, signedPayload) };
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
