// Shared by the browser tests: a real `ulak serve` on a free port with a fresh SQLite file, and
// Debian's Chromium driven by playwright-core (pinned in ui/package-lock.json, installed in the
// build tree by `npm ci`). Usage: node <test>.js <ulak binary> <node_modules dir> <screenshots dir>
// Nothing is skipped: a missing binary, Chromium or package fails the test.
'use strict';
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [ulakArg, nodeModules, screenshotsDir] = process.argv.slice(2);
const ulakBinary = ulakArg && path.resolve(ulakArg);
if (!ulakBinary || !nodeModules) {
  console.error('usage: node <test>.js <ulak binary> <node_modules dir> [screenshots dir]');
  process.exit(2);
}
const { chromium } = require(path.join(path.resolve(nodeModules), 'playwright-core'));
const CHROMIUM = process.env.ULAK_CHROMIUM || '/usr/bin/chromium';
const ADMIN_KEY = 'ulak_admin_browser_test_' + crypto.randomBytes(16).toString('hex');

async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulak-browser-'));
  const child = spawn(ulakBinary, ['serve', '--listen', '127.0.0.1:0', '--database', `sqlite:${dir}/ulak.db`, '--threads', '2'], {
    cwd: dir, env: { ...process.env, ULAK_ADMIN_KEY: ADMIN_KEY, ULAK_MODE: 'development' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('ulak did not start in 30 s:\n' + stderr)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`ulak exited with ${code}:\n${stderr}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return {
    base,
    adminKey: ADMIN_KEY,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await done;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// REST calls from the test itself (setup and cross-checks), with a bearer key.
async function call(base, method, p, key, body) {
  const res = await fetch(base + p, {
    method, headers: { Authorization: 'Bearer ' + key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: res.status, json, text };
}

async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ulak-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => {
      // A CSP violation or a script error is a failure; expected API errors (4xx fetches) are not.
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of [45]\d\d/.test(m.text())) {
        problems.push('console error: ' + m.text());
      }
    });
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  return {
    context,
    problems,
    async page() { return context.pages()[0] || context.newPage(); },
    async close() { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

async function screenshot(page, name) {
  if (!screenshotsDir) return;
  fs.mkdirSync(screenshotsDir, { recursive: true });
  for (const [width, height] of [[1280, 900], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(150);  // a resize re-lays out the charts
    await page.screenshot({ path: path.join(screenshotsDir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// Runs named steps, printing each; the first failure prints the server's log and exits 1.
async function run(name, body) {
  const server = await startServer();
  const browser = await launchBrowser();
  let failed = false;
  try {
    await body({ server, browser, step: (s) => console.log(`[${name}] ${s}`) });
    if (browser.problems.length) throw new Error('browser reported:\n' + browser.problems.join('\n'));
    console.log(`[${name}] PASS`);
  } catch (e) {
    failed = true;
    console.error(`[${name}] FAIL: ${e.stack || e}`);
    if (browser.problems.length) console.error('browser reported:\n' + browser.problems.join('\n'));
    const page = browser.context.pages()[0];
    if (page) {
      const shot = path.join(os.tmpdir(), `${name}-failure.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      const text = await page.evaluate(() => document.body.innerText).catch(() => '');
      console.error(`--- page at failure (${page.url()}, screenshot ${shot}) ---\n${text.slice(0, 3000)}`);
    }
    console.error('--- ulak stderr (last 4000 chars) ---\n' + server.stderr().slice(-4000));
  } finally {
    await browser.close().catch(() => {});
    await server.stop().catch(() => {});
  }
  process.exit(failed ? 1 : 0);
}

function assert(cond, message) { if (!cond) throw new Error('assertion failed: ' + message); }

async function signIn(page, base, key) {
  await page.goto(base + '/');
  await page.getByLabel('API key (admin or organization)').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

module.exports = { run, call, assert, signIn, screenshot };
