// The web UI end to end in Chromium: sign in, create an organization and read its key once,
// create an inbox and a webhook to it (reading the secret), send a test and see the result,
// see the request arrive with a valid signature, make a delivery fail (inbox answers 500), see
// it in the logs, set the inbox back to 200, press Retry and see it succeed, and read the
// chart's data (not pixels) against the API's log stats.
'use strict';
const crypto = require('crypto');
const { run, call, assert, signIn } = require('./harness');

run('ui_flow', async ({ server, browser, step }) => {
  const page = await browser.page();
  const base = server.base;

  step('the root redirects to /ui/ with strict security headers');
  const res = await page.goto(base + '/');
  assert(page.url() === base + '/ui/', 'redirected to /ui/, got ' + page.url());
  const headers = res.headers();
  assert(/default-src 'self'/.test(headers['content-security-policy']), 'CSP default-src self');
  assert(!/unsafe-inline/.test(headers['content-security-policy']), 'no unsafe-inline');
  assert(headers['x-content-type-options'] === 'nosniff', 'nosniff');
  assert(headers['referrer-policy'] === 'no-referrer', 'no-referrer');

  step('a wrong key shows the API error');
  await page.getByLabel('API key (admin or organization)').fill('ulak_wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Invalid API key.' }).waitFor();

  step('admin signs in and creates an organization; its API key is shown once');
  await signIn(page, base, server.adminKey);
  assert(!page.url().includes(server.adminKey), 'the key is not in the URL');
  const cookies = await browser.context.cookies();
  assert(cookies.length === 0, 'no cookies');
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.getByLabel('Name').fill('Acme');
  await page.getByRole('button', { name: 'Create organization' }).click();
  const orgKey = await page.getByTestId('new-api-key').inputValue();
  assert(/^ulak_/.test(orgKey), 'organization key shown: ' + orgKey);

  step('a blank name shows the API message next to the field');
  await page.getByLabel('Name').fill('   ');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.locator('[role=alert][data-field=name]').filter({ hasText: 'name must not be blank.' }).waitFor();

  step('sign out clears the session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
  assert(stored === '{}', 'sessionStorage cleared: ' + stored);

  step('the organization signs in and creates an inbox');
  await signIn(page, base, orgKey);
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByLabel('Inbox name (optional)').fill('receiver');
  await page.getByRole('button', { name: 'Create inbox' }).click();
  const inboxUrl = await page.getByTestId('inbox-url').inputValue();
  assert(new RegExp('^' + base + '/in/ibx_').test(inboxUrl), 'inbox URL: ' + inboxUrl);

  step('creates a webhook to the inbox (no retries) and reads its secret');
  await page.getByRole('link', { name: 'Create webhook to this inbox' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Inbox hook');
  assert(await page.getByLabel('URL', { exact: true }).inputValue() === inboxUrl, 'URL prefilled');
  await page.getByLabel('Retry failed deliveries').uncheck();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  const secret = await page.getByTestId('secret-key').inputValue();
  const whsec = await page.getByTestId('standard-secret').inputValue();
  assert(/^[0-9a-f]{64}$/.test(secret), 'secret_key shown: ' + secret);
  assert(/^whsec_/.test(whsec), 'standard secret shown');

  step('Send test shows the receiver\'s answer');
  const row = page.getByTestId('webhook-row').filter({ hasText: 'Inbox hook' });
  await row.getByRole('button', { name: 'Send test' }).click();
  await row.getByTestId('test-result').waitFor();
  assert(await row.getByTestId('test-success').textContent() === 'true', 'test succeeded');
  assert(await row.getByTestId('test-status').textContent() === '200', 'status 200');
  assert((await row.getByLabel('Response body').textContent()).includes('"ok": true'), 'response body shown');

  step('the test request arrives in the inbox with a valid signature');
  await page.getByRole('link', { name: 'Inbox' }).click();
  const arrived = page.getByTestId('inbox-request').first();
  await arrived.getByTestId('signature').filter({ hasText: 'valid X-Webhook-Signature and webhook-signature for webhook Inbox hook' }).waitFor();
  // And checked independently: seed 001's HMAC over the body with the secret the UI showed.
  const body = await arrived.getByLabel('Request body').textContent();
  const api = await call(base, 'GET', (await inboxPath(base, orgKey)) + '/requests', orgKey);
  const raw = api.json.requests[0];
  const sig = raw.headers.find(([k]) => k.toLowerCase() === 'x-webhook-signature')[1];
  assert(sig === crypto.createHmac('sha256', secret).update(raw.body).digest('hex'), 'HMAC matches the secret shown');
  assert(body.includes('webhook.test'), 'body shown');

  step('the inbox answers 500: a published event fails and shows in the logs');
  await page.getByLabel('Answer with HTTP status').fill('500');
  await page.getByRole('button', { name: 'Set status' }).click();
  await page.getByRole('status').filter({ hasText: 'Now answering 500.' }).waitFor();
  const pub = await call(base, 'POST', '/api/events', orgKey, { event: 'order.created', data: { id: 'o-1' }, event_id: 'o-1' });
  assert(pub.status === 202, 'published: ' + pub.text);
  await page.getByRole('link', { name: 'Delivery logs' }).click();
  await page.getByLabel('Status').selectOption('failed');
  const failedRow = page.locator('[data-testid=log-row][data-status=failed]').filter({ hasText: 'order.created' });
  for (let i = 0; i < 40 && (await failedRow.count()) === 0; i += 1) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(250);
  }
  await failedRow.first().waitFor();
  await failedRow.first().getByRole('button', { name: 'Details' }).click();
  const detail = page.getByTestId('attempt-detail');
  await detail.waitFor();
  assert((await detail.textContent()).includes('Status 500'), 'response status in the detail');
  assert((await detail.getByLabel('Request body').textContent()).includes('order.created'), 'request body in the detail');

  step('the inbox answers 200 again; Retry succeeds');
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByLabel('Answer with HTTP status').fill('200');
  await page.getByRole('button', { name: 'Set status' }).click();
  await page.getByRole('status').filter({ hasText: 'Now answering 200.' }).waitFor();
  await page.getByRole('link', { name: 'Delivery logs' }).click();
  await page.getByLabel('Status').selectOption('failed');
  await failedRow.first().getByRole('button', { name: 'Retry' }).click();
  await page.getByTestId('retry-state').filter({ hasText: 'Delivery success' }).waitFor();
  await page.getByLabel('Status').selectOption('success');
  await page.locator('[data-testid=log-row][data-status=success]').filter({ hasText: 'order.created' }).first().waitFor();

  step('the chart shows the deliveries just made (its data, against the log stats)');
  await page.getByRole('link', { name: 'Charts' }).click();
  await page.getByLabel('Range').selectOption('hour');
  await page.getByTestId('chart-totals').filter({ hasText: 'minute buckets' }).waitFor();
  const sums = await page.waitForFunction(() => {
    const c = window.ulakCharts && window.ulakCharts.deliveries;
    if (!c || c.data.datasets[0].data.length < 60) return null;
    const sum = (i) => c.data.datasets[i].data.reduce((a, b) => a + b, 0);
    return { success: sum(0), failed: sum(1), retrying: sum(2), buckets: c.data.labels.length };
  }).then((h) => h.jsonValue());
  const logs = await call(base, 'GET', '/api/webhooks/logs?since=' + encodeURIComponent(new Date(Date.now() - 3600e3).toISOString()), orgKey);
  assert(sums.success === logs.json.stats.success && sums.success >= 2, `chart success ${sums.success} = logs ${logs.json.stats.success}`);
  assert(sums.failed === logs.json.stats.failed && sums.failed >= 1, `chart failed ${sums.failed} = logs ${logs.json.stats.failed}`);

  step('keyboard: the sign-out button is reachable with Tab');
  let reached = false;
  for (let i = 0; i < 30 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.textContent === 'Sign out');
  }
  assert(reached, 'Sign out reachable by keyboard');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});

async function inboxPath(base, key) {
  const r = await call(base, 'GET', '/api/inboxes', key);
  return '/api/inboxes/' + r.json.inboxes[0].id;
}
