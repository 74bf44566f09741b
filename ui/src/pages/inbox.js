// Request inboxes: URLs of this ulak that record what is sent to them; shown live (polling),
// with the signature check done by the server ("valid X-Webhook-Signature for webhook …").
import { useEffect, useState } from 'preact/hooks';
import { api, scoped } from '../api.js';
import { html, ErrorBox, Field, CopyButton, uid, fmtTime, pretty, absoluteUrl } from '../ui.js';

function SignatureBadge({ sig }) {
  if (!sig || !sig.present) return html`<span class="badge" data-testid="signature">unsigned</span>`;
  if (sig.valid) {
    const which = [sig.x_webhook_signature_valid ? 'X-Webhook-Signature' : null,
      sig.standard_signature_valid ? 'webhook-signature' : null].filter(Boolean).join(' and ');
    return html`<span class="badge ok" data-testid="signature">valid ${which} for webhook ${sig.webhook_name}</span>`;
  }
  return html`<span class="badge bad" data-testid="signature">signature does not match any webhook of this organization</span>`;
}

function RequestItem({ r }) {
  return html`<article class="card request" data-testid="inbox-request">
    <div class="head"><strong><code>${r.method} ${r.path}${r.query ? '?' + r.query : ''}</code></strong>
      <span class="muted">${fmtTime(r.received_at)} from ${r.remote_address}</span></div>
    <${SignatureBadge} sig=${r.signature} />
    <details><summary>Headers (${r.headers.length})</summary>
      <table class="kv"><tbody>${r.headers.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${v}</code></td></tr>`)}</tbody></table>
    </details>
    <pre class="body" aria-label="Request body">${r.body != null ? pretty(r.body) : '(binary, base64) ' + r.body_base64}</pre>
  </article>`;
}

function InboxDetail({ inbox, onChanged }) {
  const [requests, setRequests] = useState([]);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState(String(inbox.status));
  const [saved, setSaved] = useState(null);
  const statusId = uid('ibx-status');
  const url = absoluteUrl(inbox.url);
  useEffect(() => {
    let stop = false;
    let timer;
    const poll = async () => {
      try { const d = await api('GET', `/api/inboxes/${inbox.id}/requests`); if (!stop) { setRequests(d.requests); setError(null); } } catch (e) { if (!stop) setError(e); }
      if (!stop) timer = setTimeout(poll, 1000);
    };
    poll();
    return () => { stop = true; clearTimeout(timer); };
  }, [inbox.id]);
  const save = async (e) => {
    e.preventDefault();
    setError(null); setSaved(null);
    try { const d = await api('PATCH', `/api/inboxes/${inbox.id}`, { body: { status: Number(status) } }); setSaved(d.inbox.status); onChanged(); } catch (err) { setError(err); }
  };
  return html`<section class="card" aria-label=${'Inbox ' + inbox.name}>
    <h2>${inbox.name}</h2>
    <div class="secret"><label for=${'ibx-url-' + inbox.id}>Inbox URL (point a webhook here)</label>
      <div class="row"><input id=${'ibx-url-' + inbox.id} readonly value=${url} data-testid="inbox-url" />
      <${CopyButton} text=${url} label="Copy inbox URL" />
      <a class="button secondary" href=${'#/webhooks?new=' + encodeURIComponent(url)}>Create webhook to this inbox</a></div></div>
    <form class="row" onSubmit=${save} aria-label="Inbox answer">
      <label for=${statusId}>Answer with HTTP status</label>
      <input id=${statusId} type="number" min="200" max="599" value=${status} onInput=${(e) => setStatus(e.target.value)} />
      <button type="submit">Set status</button>
      ${saved != null ? html`<span role="status">Now answering ${saved}.</span>` : null}
    </form>
    <${ErrorBox} error=${error} />
    <h3>Requests (newest first, live; kept 24 h, at most 100)</h3>
    ${requests.length === 0 ? html`<p class="muted">Nothing received yet.</p>` : null}
    <div class="list" aria-live="polite">${requests.map((r) => html`<${RequestItem} key=${r.id} r=${r} />`)}</div>
  </section>`;
}

export function InboxPage({ who }) {
  const [inboxes, setInboxes] = useState([]);
  const [selected, setSelected] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState(null);
  const [reload, setReload] = useState(0);
  const nameId = uid('ibx-name');
  const pickId = uid('ibx-pick');
  useEffect(() => {
    api('GET', '/api/inboxes', { query: scoped(who) }).then((d) => {
      setInboxes(d.inboxes);
      if (!selected && d.inboxes.length) setSelected(d.inboxes[0].id);
    }).catch(setError);
  }, [reload]);
  const create = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const d = await api('POST', '/api/inboxes', { body: { ...scoped(who), ...(name ? { name } : {}) } });
      setName(''); setSelected(d.inbox.id); setReload(reload + 1);
    } catch (err) { setError(err); }
  };
  const current = inboxes.find((i) => i.id === selected);
  return html`<section>
    <form class="card" onSubmit=${create} aria-label="Create inbox">
      <${Field} label="Inbox name (optional)" id=${nameId} name="name" error=${error}>
        <input id=${nameId} value=${name} onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      <button type="submit">Create inbox</button>
      ${error && error.field !== 'name' ? html`<${ErrorBox} error=${error} />` : null}
    </form>
    ${inboxes.length ? html`<div class="field"><label for=${pickId}>Inbox</label>
      <select id=${pickId} value=${selected} onChange=${(e) => setSelected(e.target.value)}>
        ${inboxes.map((i) => html`<option value=${i.id}>${i.name} (${i.status})</option>`)}
      </select></div>` : null}
    ${current ? html`<${InboxDetail} key=${current.id} inbox=${current} onChanged=${() => setReload(reload + 1)} />` : null}
  </section>`;
}
