// Organizations (admin): list, create (the new API key is shown once), portal links.
// An organization key sees its own organization and can make portal links for it.
import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api.js';
import { html, ErrorBox, Field, Pager, SecretValue, CopyButton, usePager, uid, fmtTime, absoluteUrl } from '../ui.js';

function PortalControls({ org }) {
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const [revoked, setRevoked] = useState(false);
  const ttlId = uid('ttl');
  const [ttl, setTtl] = useState('3600');
  const create = async () => {
    setError(null); setRevoked(false);
    try {
      const d = await api('POST', `/api/organizations/${org.id}/portal`, { body: { expires_in_s: Number(ttl) } });
      setLink({ url: absoluteUrl(d.url), expires_at: d.expires_at });
    } catch (e) { setError(e); }
  };
  const revoke = async () => {
    setError(null);
    try { await api('DELETE', `/api/organizations/${org.id}/portal`); setLink(null); setRevoked(true); } catch (e) { setError(e); }
  };
  return html`<div class="portal">
    <div class="row">
      <label for=${ttlId}>Portal link lifetime</label>
      <select id=${ttlId} value=${ttl} onChange=${(e) => setTtl(e.target.value)}>
        <option value="900">15 minutes</option><option value="3600">1 hour</option>
        <option value="28800">8 hours</option><option value="86400">24 hours</option>
      </select>
      <button type="button" onClick=${create}>Create portal link</button>
      <button type="button" class="secondary" onClick=${revoke}>Revoke portal links</button>
    </div>
    ${link ? html`<div class="secret"><label for=${'pl-' + org.id}>Portal link for ${org.name} (expires ${fmtTime(link.expires_at)})</label>
      <div class="row"><input id=${'pl-' + org.id} readonly value=${link.url} data-testid="portal-url" />
      <${CopyButton} text=${link.url} label="Copy portal link" /></div></div>` : null}
    ${revoked ? html`<p role="status">Every portal link of ${org.name} is revoked.</p>` : null}
    <${ErrorBox} error=${error} />
  </div>`;
}

export function OrganizationsPage({ who }) {
  const [orgs, setOrgs] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState(null);
  const [createError, setCreateError] = useState(null);
  const [reload, setReload] = useState(0);
  const pager = usePager();
  const nameId = uid('orgname');

  useEffect(() => {
    setError(null);
    if (who.kind === 'admin') {
      api('GET', '/api/organizations', { query: { limit: 20, cursor: pager.cursor } })
        .then((d) => { setOrgs(d.organizations); setNext(d.next_cursor); }).catch(setError);
    } else {
      api('GET', `/api/organizations/${who.organization_id}`).then((d) => setOrgs([d.organization])).catch(setError);
    }
  }, [pager.cursor, reload]);

  const create = async (e) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const d = await api('POST', '/api/organizations', { body: { name } });
      setCreated(d);
      setName('');
      if (!session.org) session.org = d.organization.id;
      setReload(reload + 1);
    } catch (err) { setCreateError(err); }
  };

  return html`<section>
    ${who.kind === 'admin' ? html`<form class="card" onSubmit=${create} aria-label="Create organization">
      <h2>New organization</h2>
      <${Field} label="Name" id=${nameId} name="name" error=${createError}>
        <input id=${nameId} value=${name} onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      ${createError && createError.field !== 'name' ? html`<${ErrorBox} error=${createError} />` : null}
      <button type="submit">Create organization</button>
      ${created ? html`<div class="once" role="status">
        <p><strong>${created.organization.name}</strong> created. Its API key is shown only this once:</p>
        <${SecretValue} label="API key" value=${created.api_key} testid="new-api-key" />
      </div>` : null}
    </form>` : null}
    <${ErrorBox} error=${error} />
    <div class="list">
      ${orgs.map((o) => html`<article class="card" data-testid="org-row">
        <h2>${o.name}</h2>
        <p class="muted"><code>${o.id}</code> · created ${fmtTime(o.created_at)}</p>
        ${who.kind === 'admin' ? html`<button type="button" class="secondary" disabled=${session.org === o.id}
            onClick=${() => { session.org = o.id; location.hash = '#/webhooks'; }}>${session.org === o.id ? 'Current organization' : 'Use this organization'}</button>` : null}
        <${PortalControls} org=${o} />
      </article>`)}
    </div>
    ${who.kind === 'admin' ? html`<${Pager} pager=${pager} nextCursor=${next} label="Organization pages" />` : null}
  </section>`;
}
