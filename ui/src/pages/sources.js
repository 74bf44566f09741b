// Incoming sources: list, create for each provider, and the URL to give the provider.
import { useEffect, useState } from 'preact/hooks';
import { api, scoped } from '../api.js';
import { html, ErrorBox, Field, Pager, CopyButton, usePager, uid, fmtTime, absoluteUrl } from '../ui.js';

const PROVIDERS = [
  ['stripe', 'Stripe'], ['github', 'GitHub'], ['shopify', 'Shopify'], ['apple', 'Apple App Store'],
  ['standard', 'Standard Webhooks'], ['hmac', 'Generic HMAC'], ['header', 'Shared secret header'],
];

function SourceForm({ who, onDone, onCancel }) {
  const [f, setF] = useState({ name: '', provider: 'stripe', secrets: '', default_for_provider: false, options: '', event_map: '' });
  const [error, setError] = useState(null);
  const ids = {};
  const id = (n) => (ids[n] = ids[n] || uid('src-' + n));
  const set = (n) => (e) => setF({ ...f, [n]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { ...scoped(who), name: f.name, provider: f.provider, default_for_provider: f.default_for_provider,
        secrets: f.secrets.split('\n').map((s) => s.trim()).filter(Boolean) };
      for (const n of ['options', 'event_map']) {
        if (f[n].trim()) {
          try { body[n] = JSON.parse(f[n]); } catch (err) { throw Object.assign(new Error(`${n} is not valid JSON: ${err.message}`), { field: n }); }
        }
      }
      onDone(await api('POST', '/api/sources', { body }));
    } catch (err) { setError(err); }
  };
  const known = ['name', 'provider', 'secrets', 'options', 'event_map'];
  return html`<form class="card" onSubmit=${submit} aria-label="Create source">
    <h2>New source</h2>
    <div class="grid">
      <${Field} label="Name" id=${id('name')} name="name" error=${error}>
        <input id=${id('name')} value=${f.name} onInput=${set('name')} required />
      </${Field}>
      <${Field} label="Provider" id=${id('provider')} name="provider" error=${error}>
        <select id=${id('provider')} value=${f.provider} onChange=${set('provider')}>
          ${PROVIDERS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
        </select>
      </${Field}>
    </div>
    <${Field} label="Signing secrets (one per line)" id=${id('secrets')} name="secrets" error=${error}>
      <textarea id=${id('secrets')} rows="2" spellcheck=${false} value=${f.secrets} onInput=${set('secrets')}></textarea>
    </${Field}>
    <${Field} label="Options (JSON, provider specific; optional)" id=${id('options')} name="options" error=${error}>
      <textarea id=${id('options')} rows="2" spellcheck=${false} value=${f.options} onInput=${set('options')}></textarea>
    </${Field}>
    <${Field} label='Event map (JSON, e.g. [{"match": "invoice.*", "event": "billing"}]; optional)' id=${id('event_map')} name="event_map" error=${error}>
      <textarea id=${id('event_map')} rows="2" spellcheck=${false} value=${f.event_map} onInput=${set('event_map')}></textarea>
    </${Field}>
    <div class="check"><input id=${id('def')} type="checkbox" checked=${f.default_for_provider} onChange=${set('default_for_provider')} />
      <label for=${id('def')}>Default source for this provider</label></div>
    ${error && !known.includes(error.field) ? html`<${ErrorBox} error=${error} />` : null}
    <div class="row"><button type="submit">Create source</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button></div>
  </form>`;
}

export function SourcesPage({ who }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const pager = usePager();
  useEffect(() => {
    api('GET', '/api/sources', { query: scoped(who, { limit: 20, cursor: pager.cursor }) }).then(setList).catch(setError);
  }, [pager.cursor, reload]);
  return html`<section>
    ${creating ? html`<${SourceForm} who=${who} onCancel=${() => setCreating(false)}
        onDone=${() => { setCreating(false); setReload(reload + 1); }} />`
      : html`<button type="button" onClick=${() => setCreating(true)}>New source</button>`}
    <${ErrorBox} error=${error} />
    <div class="list">
      ${list && list.sources.length === 0 ? html`<p>No sources yet.</p>` : null}
      ${list ? list.sources.map((s) => {
        const url = absoluteUrl(s.url);
        const uidUrl = 'src-url-' + s.id;
        return html`<article class="card" data-testid="source-row">
          <div class="head"><h2>${s.name}</h2><span class="badge">${s.provider}</span>
            <span class=${'badge ' + (s.is_active ? 'ok' : 'bad')}>${s.is_active ? 'Active' : 'Inactive'}</span></div>
          <div class="secret"><label for=${uidUrl}>URL to give ${s.provider}</label>
            <div class="row"><input id=${uidUrl} readonly value=${url} /><${CopyButton} text=${url} label="Copy URL" /></div></div>
          <p class="muted">${s.secrets_count} secret(s) · ${s.rejected_count} rejected · created ${fmtTime(s.created_at)}
            ${s.default_for_provider ? ' · default for ' + s.provider : ''}</p>
        </article>`;
      }) : null}
    </div>
    <${Pager} pager=${pager} nextCursor=${list && list.next_cursor} label="Source pages" />
  </section>`;
}
