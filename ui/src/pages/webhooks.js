// Webhooks: list with status and 24 h success rate; create and edit every field the API takes;
// secrets shown once after create or rotate; enable/disable; Send test; Rotate secret; Recover.
import { useEffect, useState } from 'preact/hooks';
import { api, scoped } from '../api.js';
import { html, ErrorBox, Field, Pager, SecretValue, usePager, uid, fmtTime, pretty } from '../ui.js';

const DEFAULT_POLICY = '{"kind": "fixed", "delays_s": [60, 300, 1800]}';
// Fields other branches add to the API (template, filter, fields, transform): sent only when
// filled, as the JSON typed here.
const OPTIONAL_JSON = [
  { name: 'template', label: 'Template (JSON: {"name", "params", "auth"})' },
  { name: 'filter', label: 'Filter (JSON condition)' },
  { name: 'fields', label: 'Fields (JSON array of paths)' },
  { name: 'transform', label: 'Transform (JSON: {"lua": "..."})' },
];

function formFrom(w) {
  const f = {
    name: w ? w.name : '', url: w ? w.url : '',
    events: w ? (w.events || []).join(', ') : '*',
    custom_headers: w ? JSON.stringify(w.custom_headers || {}, null, 2) : '{}',
    retry_policy: w ? JSON.stringify(w.retry_policy || {}, null, 2) : DEFAULT_POLICY,
    retry_enabled: w ? w.retry_enabled : true,
    max_retries: w ? String(w.max_retries) : '',
    timeout_seconds: w ? String(w.timeout_seconds) : '',
    max_in_flight: w ? String(w.max_in_flight) : '',
    rate_limit_per_s: w && w.rate_limit_per_s != null ? String(w.rate_limit_per_s) : '',
    disable_on_gone: w ? !!w.disable_on_gone : false,
    is_active: w ? w.is_active : true,
  };
  for (const o of OPTIONAL_JSON) f[o.name] = w && w[o.name] != null ? JSON.stringify(w[o.name], null, 2) : '';
  return f;
}

class FormError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

function parseJsonField(name, text) {
  try { return JSON.parse(text); } catch (e) { throw new FormError(name, `${name} is not valid JSON: ${e.message}`); }
}

function bodyFrom(f) {
  const body = {
    name: f.name, url: f.url,
    events: f.events.split(',').map((s) => s.trim()).filter(Boolean),
    custom_headers: parseJsonField('custom_headers', f.custom_headers || '{}'),
    retry_policy: parseJsonField('retry_policy', f.retry_policy || '{}'),
    retry_enabled: f.retry_enabled, disable_on_gone: f.disable_on_gone, is_active: f.is_active,
  };
  for (const n of ['max_retries', 'timeout_seconds', 'max_in_flight', 'rate_limit_per_s']) {
    if (f[n] !== '') body[n] = Number(f[n]);
  }
  for (const o of OPTIONAL_JSON) if (f[o.name].trim() !== '') body[o.name] = parseJsonField(o.name, f[o.name]);
  return body;
}

function WebhookForm({ who, webhook, prefillUrl, onDone, onCancel }) {
  const [f, setF] = useState(() => ({ ...formFrom(webhook), ...(prefillUrl && !webhook ? { url: prefillUrl } : {}) }));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const ids = {};
  const id = (n) => (ids[n] = ids[n] || uid('wh-' + n));
  const set = (n) => (e) => setF({ ...f, [n]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body = bodyFrom(f);
      const d = webhook
        ? await api('PATCH', `/api/webhooks/${webhook.id}`, { body })
        : await api('POST', '/api/webhooks', { body: { ...body, ...scoped(who) } });
      onDone(d);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const text = (n, label, extra = {}) => html`<${Field} label=${label} id=${id(n)} name=${n} error=${error} hint=${extra.hint}>
    <input id=${id(n)} type=${extra.type || 'text'} value=${f[n]} onInput=${set(n)} required=${!!extra.required} />
  </${Field}>`;
  const area = (n, label, hint) => html`<${Field} label=${label} id=${id(n)} name=${n} error=${error} hint=${hint}>
    <textarea id=${id(n)} rows="3" spellcheck=${false} value=${f[n]} onInput=${set(n)}></textarea>
  </${Field}>`;
  const check = (n, label) => html`<div class="check"><input id=${id(n)} type="checkbox" checked=${f[n]} onChange=${set(n)} />
    <label for=${id(n)}>${label}</label></div>`;
  return html`<form class="card" onSubmit=${submit} aria-label=${webhook ? 'Edit webhook' : 'Create webhook'}>
    <h2>${webhook ? 'Edit ' + webhook.name : 'New webhook'}</h2>
    <div class="grid">
      ${text('name', 'Name', { required: true })}
      ${text('url', 'URL', { required: true, type: 'url' })}
      ${text('events', 'Events (comma-separated, wildcards allowed)')}
      ${text('timeout_seconds', 'Timeout (seconds)', { type: 'number' })}
      ${text('max_retries', 'Max retries', { type: 'number' })}
      ${text('max_in_flight', 'Max in flight', { type: 'number' })}
      ${text('rate_limit_per_s', 'Rate limit (per second, empty: none)', { type: 'number' })}
    </div>
    ${area('custom_headers', 'Custom headers (JSON object)')}
    ${area('retry_policy', 'Retry policy (JSON)', 'fixed {"delays_s": [...]} or exponential {"initial_s", "multiplier", "max_delay_s", "max_attempts"}')}
    <div class="checks">
      ${check('is_active', 'Active')}
      ${check('retry_enabled', 'Retry failed deliveries')}
      ${check('disable_on_gone', 'Disable on 410 Gone')}
    </div>
    <details>
      <summary>Template, filter, fields, transform (optional)</summary>
      ${OPTIONAL_JSON.map((o) => area(o.name, o.label))}
    </details>
    ${error && !OPTIONAL_JSON.concat([{ name: 'name' }, { name: 'url' }, { name: 'events' }, { name: 'custom_headers' }, { name: 'retry_policy' }, { name: 'timeout_seconds' }, { name: 'max_retries' }, { name: 'max_in_flight' }, { name: 'rate_limit_per_s' }]).some((o) => o.name === error.field)
      ? html`<${ErrorBox} error=${error} />` : null}
    <div class="row">
      <button type="submit" disabled=${busy}>${webhook ? 'Save webhook' : 'Create webhook'}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function Secrets({ result, title }) {
  const w = result.webhook;
  return html`<div class="card once" role="status" data-testid="webhook-secrets">
    <h2>${title}</h2>
    <p>${result.message || 'Save these secrets now: they are not shown again.'}</p>
    <${SecretValue} label="Secret key" value=${w.secret_key} testid="secret-key" />
    <${SecretValue} label="Standard Webhooks secret" value=${result.standard_webhooks_secret} testid="standard-secret" />
  </div>`;
}

function TestResult({ result }) {
  return html`<div class=${'result ' + (result.success ? 'ok' : 'bad')} role="status" data-testid="test-result">
    <strong>${result.success ? 'Test succeeded' : 'Test failed'}</strong>
    <dl>
      <dt>Success</dt><dd data-testid="test-success">${String(result.success)}</dd>
      <dt>Status code</dt><dd data-testid="test-status">${result.statusCode == null ? '—' : result.statusCode}</dd>
      <dt>Time</dt><dd>${result.responseTimeMs} ms</dd>
      <dt>Message</dt><dd>${result.message}</dd>
    </dl>
    <pre class="body" aria-label="Response body">${pretty(result.responseBody)}</pre>
  </div>`;
}

function RecoverControls({ webhook }) {
  const sinceId = uid('since');
  const [since, setSince] = useState(() => new Date(Date.now() - 3600e3).toISOString().slice(0, 16));
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!job || job.status !== 'running') return undefined;
    const t = setTimeout(() => api('GET', `/api/jobs/${job.id}`).then((d) => setJob(d.job)).catch(setError), 500);
    return () => clearTimeout(t);
  }, [job]);
  const start = async () => {
    setError(null);
    try {
      const d = await api('POST', `/api/webhooks/${webhook.id}/recover`, { body: { since: new Date(since).toISOString() } });
      setJob(d.job);
    } catch (e) { setError(e); }
  };
  return html`<div class="row">
    <label for=${sinceId}>Re-send failures since</label>
    <input id=${sinceId} type="datetime-local" value=${since} onInput=${(e) => setSince(e.target.value)} />
    <button type="button" onClick=${start}>Recover</button>
    ${job ? html`<span role="status" data-testid="recover-job">Job ${job.status}: ${job.done}/${job.total}${job.error ? ' — ' + job.error : ''}</span>` : null}
    <${ErrorBox} error=${error} />
  </div>`;
}

function RotateControls({ webhook, onRotated }) {
  const graceId = uid('grace');
  const [grace, setGrace] = useState('86400');
  const [error, setError] = useState(null);
  const rotate = async () => {
    setError(null);
    try {
      const body = { regenerate_secret: true };
      if (Number(grace) > 0) body.grace_period_s = Number(grace);
      onRotated(await api('PATCH', `/api/webhooks/${webhook.id}`, { body }));
    } catch (e) { setError(e); }
  };
  return html`<div class="row">
    <label for=${graceId}>Old secret keeps signing for</label>
    <select id=${graceId} value=${grace} onChange=${(e) => setGrace(e.target.value)}>
      <option value="0">no grace period</option><option value="3600">1 hour</option>
      <option value="86400">24 hours</option><option value="604800">7 days</option>
    </select>
    <button type="button" onClick=${rotate}>Rotate secret</button>
    <${ErrorBox} error=${error} />
  </div>`;
}

function WebhookRow({ who, w, health, onChanged, onEdit, onSecrets }) {
  const [test, setTest] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  const sendTest = async () => {
    setError(null); setBusy(true); setTest(null);
    try { setTest(await api('POST', '/api/webhooks/test', { body: { webhook_config_id: w.id } })); } catch (e) { setError(e); }
    setBusy(false);
  };
  const toggle = async () => {
    setError(null);
    try { await api('PATCH', `/api/webhooks/${w.id}`, { body: { is_active: !w.is_active } }); onChanged(); } catch (e) { setError(e); }
  };
  const rate = health && health.success_rate != null ? `${Math.round(health.success_rate * 1000) / 10}%` : '—';
  return html`<article class="card webhook" data-testid="webhook-row" data-webhook-id=${w.id}>
    <div class="head">
      <h2>${w.name}</h2>
      <span class=${'badge ' + (w.is_active ? 'ok' : 'bad')}>${w.is_active ? 'Active' : 'Disabled'}</span>
    </div>
    <p class="url"><code>${w.url}</code></p>
    <p class="muted">Events: ${(w.events || []).join(', ') || '—'} · Success rate (24 h): <span data-testid="success-rate">${rate}</span>
      ${health ? html` of ${health.total_deliveries}` : null} · Last triggered ${fmtTime(w.last_triggered_at)}
      ${w.disabled_reason ? html` · Disabled: ${w.disabled_reason}` : null}</p>
    <div class="row actions">
      <button type="button" onClick=${sendTest} disabled=${busy}>Send test</button>
      <button type="button" class="secondary" onClick=${() => onEdit(w)}>Edit</button>
      <button type="button" class="secondary" onClick=${toggle}>${w.is_active ? 'Disable' : 'Enable'}</button>
      <a class="button secondary" href=${'#/logs?webhook=' + w.id}>Logs</a>
      <a class="button secondary" href=${'#/charts?webhook=' + w.id}>Chart</a>
      <button type="button" class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>More actions</button>
    </div>
    ${busy ? html`<p role="status">Sending a test…</p>` : null}
    ${test ? html`<${TestResult} result=${test} />` : null}
    <${ErrorBox} error=${error} />
    ${open ? html`<div class="more">
      ${who.kind !== 'portal' ? html`<${RotateControls} webhook=${w} onRotated=${(d) => { onSecrets(d, 'Secret rotated'); onChanged(); }} />` : null}
      <${RecoverControls} webhook=${w} />
    </div>` : null}
  </article>`;
}

export function WebhooksPage({ who, params }) {
  const [list, setList] = useState(null);
  const [health, setHealth] = useState({});
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(params.get('new') ? 'new' : null);
  const [secrets, setSecrets] = useState(null);
  const [reload, setReload] = useState(0);
  const pager = usePager();
  useEffect(() => {
    setError(null);
    api('GET', '/api/webhooks', { query: scoped(who, { limit: 20, cursor: pager.cursor }) }).then(setList).catch(setError);
    api('GET', '/api/monitoring/webhooks', { query: scoped(who) })
      .then((d) => setHealth(Object.fromEntries(d.webhooks.map((h) => [h.webhook_config_id, h])))).catch(() => {});
  }, [pager.cursor, reload]);
  const done = (d) => {
    if (d.webhook && d.webhook.secret_key) setSecrets({ result: d, title: `Webhook ${d.webhook.name} created` });
    setEditing(null);
    setReload(reload + 1);
  };
  return html`<section>
    ${secrets ? html`<${Secrets} result=${secrets.result} title=${secrets.title} />` : null}
    ${editing ? html`<${WebhookForm} who=${who} webhook=${editing === 'new' ? null : editing}
        prefillUrl=${params.get('new') || ''} onDone=${done} onCancel=${() => setEditing(null)} />`
      : html`<button type="button" onClick=${() => { setSecrets(null); setEditing('new'); }}>New webhook</button>`}
    <${ErrorBox} error=${error} />
    <div class="list">
      ${list && list.webhooks.length === 0 ? html`<p>No webhooks yet.</p>` : null}
      ${list ? list.webhooks.map((w) => html`<${WebhookRow} key=${w.id} who=${who} w=${w} health=${health[w.id]}
          onChanged=${() => setReload(reload + 1)} onEdit=${(x) => { setSecrets(null); setEditing(x); window.scrollTo(0, 0); }}
          onSecrets=${(d, t) => setSecrets({ result: d, title: t })} />`) : null}
    </div>
    <${Pager} pager=${pager} nextCursor=${list && list.next_cursor} label="Webhook pages" />
  </section>`;
}
