// The tenant portal in Chromium: a portal link for organization A shows A's webhooks and not
// B's, leaves the token out of the address bar, offers no key management, and the API refuses
// the portal session every key and admin route; a revoked link stops working.
'use strict';
const { run, call, assert } = require('./harness');

run('ui_portal', async ({ server, browser, step }) => {
  const page = await browser.page();
  const base = server.base;
  const admin = server.adminKey;

  step('two organizations with one webhook each (API)');
  const a = (await call(base, 'POST', '/api/organizations', admin, { name: 'Org A' })).json;
  const b = (await call(base, 'POST', '/api/organizations', admin, { name: 'Org B' })).json;
  for (const [org, name] of [[a, 'A-orders'], [b, 'B-secret-hook']]) {
    const r = await call(base, 'POST', '/api/webhooks', org.api_key, { name, url: 'https://example.com/' + name, events: ['*'] });
    assert(r.status === 201, 'webhook created: ' + r.text);
  }
  const bHook = (await call(base, 'GET', '/api/webhooks', b.api_key)).json.webhooks[0];

  step('organization A makes a portal link');
  const link = await call(base, 'POST', `/api/organizations/${a.organization.id}/portal`, a.api_key, { expires_in_s: 600 });
  assert(link.status === 201 && /^\/ui\/#portal=ulak_portal_/.test(link.json.url), 'portal link: ' + link.text);
  const other = await call(base, 'POST', `/api/organizations/${b.organization.id}/portal`, a.api_key, {});
  assert(other.status === 403, 'A cannot make a link for B: ' + other.status);

  step('the link opens A\'s portal: A\'s webhooks, not B\'s; the token leaves the address bar');
  await page.goto(base + link.json.url);
  await page.getByTestId('webhook-row').filter({ hasText: 'A-orders' }).waitFor();
  assert(!page.url().includes('ulak_portal_'), 'token removed from the URL: ' + page.url());
  assert((await page.getByText('B-secret-hook').count()) === 0, 'B\'s webhook is not shown');
  assert(await page.getByTestId('session-kind').textContent() === 'Portal', 'portal badge');
  assert((await page.getByRole('link', { name: 'Organizations' }).count()) === 0, 'no Organizations page');
  await page.getByTestId('webhook-row').first().getByRole('button', { name: 'More actions' }).click();
  assert((await page.getByRole('button', { name: 'Rotate secret' }).count()) === 0, 'no Rotate secret in the portal');

  step('the portal session cannot create an API key or reach B or admin routes');
  const codes = await page.evaluate(async ({ aId, bId, bHookId }) => {
    const token = sessionStorage.getItem('ulak.token');
    const go = async (method, path) => (await fetch(path, { method, headers: { Authorization: 'Bearer ' + token } })).status;
    return {
      createKey: await go('POST', `/api/organizations/${aId}/keys`),
      listKeys: await go('GET', `/api/organizations/${aId}/keys`),
      newPortal: await go('POST', `/api/organizations/${aId}/portal`),
      listOrgs: await go('GET', '/api/organizations'),
      otherOrg: await go('GET', `/api/organizations/${bId}`),
      otherHook: await go('GET', `/api/webhooks/${bHookId}`),
      ownHooks: await go('GET', '/api/webhooks'),
    };
  }, { aId: a.organization.id, bId: b.organization.id, bHookId: bHook.id });
  assert(codes.createKey === 403 && codes.listKeys === 403 && codes.newPortal === 403, 'key management refused: ' + JSON.stringify(codes));
  assert(codes.listOrgs === 403 && codes.otherOrg === 403 && codes.otherHook === 404, 'other org refused: ' + JSON.stringify(codes));
  assert(codes.ownHooks === 200, 'own webhooks readable');

  step('revoking the links signs the portal out');
  const del = await call(base, 'DELETE', `/api/organizations/${a.organization.id}/portal`, a.api_key);
  assert(del.status === 204, 'revoked');
  await page.reload();
  await page.getByRole('alert').filter({ hasText: 'This portal link has been revoked.' }).waitFor();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});
