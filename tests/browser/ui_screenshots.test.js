// Screenshots of every page at 1280 and 390 px (docs/screenshots/, linked from the README),
// over a little real data: an inbox, a webhook to it, deliveries that succeeded and failed,
// a source. Also checks that no page needs horizontal scrolling at 390 px.
'use strict';
const { run, call, assert, signIn, screenshot } = require('./harness');

run('ui_screenshots', async ({ server, browser, step }) => {
  const page = await browser.page();
  const base = server.base;
  const admin = server.adminKey;

  step('data: an organization, an inbox, a webhook to it, deliveries, a source');
  const org = (await call(base, 'POST', '/api/organizations', admin, { name: 'Kebab House' })).json;
  await call(base, 'POST', '/api/organizations', admin, { name: 'Pide Corner' });
  const key = org.api_key;
  const inbox = (await call(base, 'POST', '/api/inboxes', key, { name: 'local receiver' })).json.inbox;
  const hook = await call(base, 'POST', '/api/webhooks', key, {
    name: 'Order service', url: base + inbox.url, events: ['order.*'], retry_enabled: false,
    custom_headers: { 'X-Team': 'kitchen' },
  });
  assert(hook.status === 201, hook.text);
  await call(base, 'POST', '/api/webhooks', key, { name: 'n8n', url: 'https://n8n.example.com/webhook/orders', events: ['order.created'], is_active: false });
  // Deliveries are sent after the publish answers: wait for each group to be logged before
  // the inbox's answer changes, so four succeed and two fail whatever the machine's speed.
  const waitForLogged = async (n) => {
    for (let i = 0; i < 80; i += 1) {
      const logs = await call(base, 'GET', '/api/webhooks/logs', key);
      if (logs.json.stats.total >= n) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`fewer than ${n} deliveries logged`);
  };
  for (let i = 0; i < 6; i += 1) {
    if (i === 4) {
      await waitForLogged(4);
      await call(base, 'PATCH', `/api/inboxes/${inbox.id}`, key, { status: 500 });
    }
    await call(base, 'POST', '/api/events', key, { event: 'order.created', data: { id: 'o-' + i, total_amount: 100 + i }, event_id: 'o-' + i });
  }
  await waitForLogged(6);
  await call(base, 'PATCH', `/api/inboxes/${inbox.id}`, key, { status: 200 });
  await call(base, 'POST', '/api/sources', key, { name: 'Stripe', provider: 'stripe', secrets: ['whsec_test'] });

  step('sign-in page');
  await page.goto(base + '/ui/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await screenshot(page, 'signin');

  step('organizations (admin)');
  await signIn(page, base, admin);
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.getByTestId('org-row').first().waitFor();
  await screenshot(page, 'organizations');
  await page.getByRole('button', { name: 'Sign out' }).click();

  step('pages of the organization');
  await signIn(page, base, key);
  const pages = [
    ['webhooks', 'Webhooks', async () => {
      await page.getByTestId('webhook-row').first().getByRole('button', { name: 'Send test' }).click();
      await page.getByTestId('test-result').waitFor();
    }],
    ['sources', 'Sources', async () => page.getByTestId('source-row').first().waitFor()],
    ['logs', 'Delivery logs', async () => {
      await page.getByTestId('log-row').first().waitFor();
      await page.locator('[data-testid=log-row][data-status=failed]').first().getByRole('button', { name: 'Details' }).click();
    }],
    ['charts', 'Charts', async () => {
      await page.getByLabel('Range').selectOption('hour');
      await page.getByTestId('chart-totals').filter({ hasText: 'minute' }).waitFor();
    }],
    ['inbox', 'Inbox', async () => page.getByTestId('inbox-request').first().waitFor()],
  ];
  for (const [name, link, ready] of pages) {
    await page.getByRole('link', { name: link, exact: true }).click();
    await ready();
    await screenshot(page, name);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);  // Chart.js resizes on a ResizeObserver callback
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 1, `${name} fits 390 px (overflow ${overflow}px)`);
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  await page.getByRole('button', { name: 'Sign out' }).click();

  step('portal');
  const link = (await call(base, 'POST', `/api/organizations/${org.organization.id}/portal`, key, {})).json;
  await page.goto(base + link.url);
  await page.getByTestId('webhook-row').first().waitFor();
  await screenshot(page, 'portal');
});
