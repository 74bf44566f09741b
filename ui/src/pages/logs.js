// Delivery logs: filters, newest first, paginated; an attempt's request and response; Retry.
import { useEffect, useState } from 'preact/hooks';
import { api, scoped } from '../api.js';
import { html, ErrorBox, Pager, usePager, uid, fmtTime, pretty } from '../ui.js';

const RANGES = [['3600', 'Last hour'], ['86400', 'Last 24 hours'], ['604800', 'Last 7 days'], ['', 'All time']];

function AttemptDetail({ a, webhook }) {
  // The attempt log keeps the body, URL and signature; the other headers are the ones every
  // delivery sends (README "Sending webhooks") plus the webhook's custom headers.
  const headers = [['Content-Type', 'application/json'], ['User-Agent', 'ulak/…'],
    ...Object.entries((webhook && webhook.custom_headers) || {}),
    ['X-Webhook-Signature', a.request_signature], ['webhook-id', a.delivery_id]];
  return html`<div class="detail" data-testid="attempt-detail">
    <h3>Request</h3>
    <p><code>POST ${a.request_url}</code></p>
    <p class="muted">Headers: the signature and ids this attempt sent, the webhook's custom headers and the
      ones every delivery carries (webhook-timestamp and webhook-signature are not logged).</p>
    <table class="kv"><caption class="sr-only">Request headers</caption>
      <tbody>${headers.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${v}</code></td></tr>`)}</tbody></table>
    <pre class="body" aria-label="Request body">${pretty(a.request_body)}</pre>
    <h3>Response</h3>
    <p>Status <strong>${a.response_status == null ? 'none' : a.response_status}</strong> in ${a.response_time_ms} ms
      ${a.error_message ? html` · <span class="error">${a.error_message}</span>` : null}</p>
    <pre class="body" aria-label="Response body">${pretty(a.response_body || '')}</pre>
    ${a.next_retry_at ? html`<p class="muted">Next retry ${fmtTime(a.next_retry_at)}</p>` : null}
  </div>`;
}

function AttemptRow({ a, webhook, onRetried }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const [state, setState] = useState(null);
  const retry = async () => {
    setError(null);
    try {
      await api('POST', `/api/deliveries/${a.delivery_id}/retry`);
      setState('sending');
      // Show the outcome: poll the delivery until it is no longer pending.
      for (let i = 0; i < 40; i += 1) {
        await new Promise((r) => setTimeout(r, 250));
        const d = await api('GET', `/api/deliveries/${a.delivery_id}`);
        if (d.delivery.status !== 'pending') { setState(d.delivery.status); break; }
      }
      onRetried();
    } catch (e) { setError(e); }
  };
  return html`<tr data-testid="log-row" data-status=${a.status} data-delivery-id=${a.delivery_id}>
    <td>${fmtTime(a.created_at)}</td>
    <td><code>${a.event_type}</code></td>
    <td>${webhook ? webhook.name : a.webhook_config_id}</td>
    <td><span class=${'badge ' + (a.status === 'success' ? 'ok' : a.status === 'failed' ? 'bad' : 'warn')}>${a.status}</span></td>
    <td>${a.response_status == null ? '—' : a.response_status}</td>
    <td>${a.response_time_ms} ms</td>
    <td>#${a.attempt_number}</td>
    <td class="actions">
      <button type="button" class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? 'Hide' : 'Details'}</button>
      <button type="button" onClick=${retry}>Retry</button>
      ${state ? html`<span role="status" data-testid="retry-state">Delivery ${state}</span>` : null}
      <${ErrorBox} error=${error} />
    </td>
  </tr>
  ${open ? html`<tr class="detail-row"><td colspan="8"><${AttemptDetail} a=${a} webhook=${webhook} /></td></tr>` : null}`;
}

export function LogsPage({ who, params }) {
  const [filters, setFilters] = useState({ status: '', webhook: params.get('webhook') || '', event_type: '', range: '86400' });
  const [webhooks, setWebhooks] = useState([]);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [reload, setReload] = useState(0);
  const pager = usePager();
  const ids = { status: uid('f-status'), webhook: uid('f-webhook'), event: uid('f-event'), range: uid('f-range') };
  useEffect(() => {
    api('GET', '/api/webhooks', { query: scoped(who, { limit: 250 }) }).then((d) => setWebhooks(d.webhooks)).catch(() => {});
  }, []);
  useEffect(() => {
    setError(null);
    let live = true;
    const since = filters.range ? new Date(Date.now() - Number(filters.range) * 1000).toISOString() : '';
    api('GET', '/api/webhooks/logs', { query: scoped(who, {
      status: filters.status, webhook_config_id: filters.webhook, event_type: filters.event_type, since,
      limit: 25, cursor: pager.cursor,
    }) }).then((d) => live && setData(d)).catch((e) => live && setError(e));
    return () => { live = false; };  // a slower answer to older filters must not win
  }, [filters, pager.cursor, reload]);
  const set = (n) => (e) => { pager.reset(); setFilters({ ...filters, [n]: e.target.value }); };
  const byId = Object.fromEntries(webhooks.map((w) => [w.id, w]));
  return html`<section>
    <form class="filters card" aria-label="Log filters" onSubmit=${(e) => { e.preventDefault(); setReload(reload + 1); }}>
      <div class="field"><label for=${ids.status}>Status</label>
        <select id=${ids.status} value=${filters.status} onChange=${set('status')}>
          <option value="">Any</option><option value="success">Success</option>
          <option value="failed">Failed</option><option value="retrying">Retrying</option>
        </select></div>
      <div class="field"><label for=${ids.webhook}>Webhook</label>
        <select id=${ids.webhook} value=${filters.webhook} onChange=${set('webhook')}>
          <option value="">Any</option>${webhooks.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
        </select></div>
      <div class="field"><label for=${ids.event}>Event type</label>
        <input id=${ids.event} value=${filters.event_type} onChange=${set('event_type')} placeholder="order.created" /></div>
      <div class="field"><label for=${ids.range}>Time range</label>
        <select id=${ids.range} value=${filters.range} onChange=${set('range')}>
          ${RANGES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
        </select></div>
      <button type="submit" class="secondary">Refresh</button>
    </form>
    <${ErrorBox} error=${error} />
    ${data ? html`<p class="muted" data-testid="log-stats">${data.stats.total} attempts: ${data.stats.success} success,
      ${data.stats.failed} failed, ${data.stats.retrying} retrying · average ${data.stats.avgResponseTime} ms</p>` : null}
    <div class="table-wrap">
      <table class="logs">
        <caption class="sr-only">Delivery attempts, newest first</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Webhook</th><th scope="col">Outcome</th>
          <th scope="col">HTTP</th><th scope="col">Duration</th><th scope="col">Try</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          ${data && data.logs.length === 0 ? html`<tr><td colspan="8">No attempts match.</td></tr>` : null}
          ${data ? data.logs.map((a) => html`<${AttemptRow} key=${a.id} a=${a} webhook=${byId[a.webhook_config_id]}
              onRetried=${() => setReload(reload + 1)} />`) : null}
        </tbody>
      </table>
    </div>
    <${Pager} pager=${pager} nextCursor=${data && data.next_cursor} label="Log pages" />
  </section>`;
}
