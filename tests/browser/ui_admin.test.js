// The admin key in the UI: it picks an organization and every page then acts on that one
// (the API needs organization_id from the admin); errors of the API are shown next to the form.
'use strict';
const { run, call, assert, signIn } = require('./harness');

run('ui_admin', async ({ server, browser, step }) => {
  const page = await browser.page();
  const base = server.base;
  const admin = server.adminKey;

  step('two organizations, a webhook in the second (API)');
  await call(base, 'POST', '/api/organizations', admin, { name: 'First' });
  const second = (await call(base, 'POST', '/api/organizations', admin, { name: 'Second' })).json;
  await call(base, 'POST', '/api/webhooks', second.api_key, { name: 'second-hook', url: 'https://example.com/2', events: ['*'] });

  step('the admin picks the second organization and sees its webhook');
  await signIn(page, base, admin);
  await page.getByLabel('Organization', { exact: true }).selectOption({ label: 'Second' });
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByTestId('webhook-row').filter({ hasText: 'second-hook' }).waitFor();

  step('a webhook with a bad URL shows the API message next to the URL field');
  await page.getByRole('button', { name: 'New webhook' }).click();
  await page.getByLabel('Name', { exact: true }).fill('bad');
  await page.getByLabel('URL', { exact: true }).fill('ftp://example.com/x');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  const err = page.locator('[role=alert][data-field=url]');
  await err.waitFor();
  assert(/url/.test(await err.textContent()), 'url error shown: ' + await err.textContent());

  step('invalid JSON in custom headers is caught before sending');
  await page.getByLabel('URL', { exact: true }).fill('https://example.com/ok');
  await page.getByLabel('Custom headers (JSON object)').fill('{not json');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.locator('[role=alert][data-field=custom_headers]').waitFor();

  step('with valid input the admin creates it in the chosen organization');
  await page.getByLabel('Custom headers (JSON object)').fill('{"X-Team": "ops"}');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByTestId('secret-key').waitFor();
  const hooks = (await call(base, 'GET', '/api/webhooks', second.api_key)).json.webhooks.map((w) => w.name);
  assert(hooks.includes('bad') && hooks.includes('second-hook'), 'created in Second: ' + hooks);

  step('the admin creates an inbox and a source for it');
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByRole('button', { name: 'Create inbox' }).click();
  await page.getByTestId('inbox-url').waitFor();
  const inboxes = (await call(base, 'GET', '/api/inboxes', second.api_key)).json.inboxes;
  assert(inboxes.length === 1, 'inbox in Second');
  await page.getByRole('link', { name: 'Sources' }).click();
  await page.getByRole('button', { name: 'New source' }).click();
  await page.getByLabel('Name', { exact: true }).fill('GitHub');
  await page.getByLabel('Provider', { exact: true }).selectOption('github');
  await page.getByLabel('Signing secrets (one per line)').fill('s3cret');
  await page.getByRole('button', { name: 'Create source' }).click();
  const row = page.getByTestId('source-row').filter({ hasText: 'GitHub' });
  await row.waitFor();
  assert(/\/api\/incoming\//.test(await row.getByLabel('URL to give github').inputValue()), 'source URL shown');
});
