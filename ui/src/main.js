// ulak's web UI: sign-in, then one page per resource, routed by the URL fragment (#/webhooks).
// A portal link (/ui/#portal=<token>) signs in with its token and drops it from the address bar.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, session } from './api.js';
import { html, ErrorBox, uid } from './ui.js';
import { OrganizationsPage } from './pages/organizations.js';
import { WebhooksPage } from './pages/webhooks.js';
import { SourcesPage } from './pages/sources.js';
import { LogsPage } from './pages/logs.js';
import { ChartsPage } from './pages/charts.js';
import { InboxPage } from './pages/inbox.js';

const PAGES = [
  { path: 'organizations', title: 'Organizations', component: OrganizationsPage },
  { path: 'webhooks', title: 'Webhooks', component: WebhooksPage },
  { path: 'sources', title: 'Sources', component: SourcesPage },
  { path: 'logs', title: 'Delivery logs', component: LogsPage },
  { path: 'charts', title: 'Charts', component: ChartsPage },
  { path: 'inbox', title: 'Inbox', component: InboxPage },
];

// Takes a portal token out of the fragment before anything else runs, so it is never left in
// the address bar, the history or a bookmark.
function takePortalToken() {
  const m = /^#portal=([A-Za-z0-9_.-]+)/.exec(location.hash);
  if (!m) return;
  session.clear();
  session.token = m[1];
  history.replaceState(null, '', location.pathname + '#/webhooks');
}

function currentRoute() {
  const m = /^#\/([a-z]+)(?:\?(.*))?/.exec(location.hash);
  return { path: m ? m[1] : '', params: new URLSearchParams(m && m[2] ? m[2] : '') };
}

function SignIn({ onSignedIn, error: initialError }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(initialError || null);
  const [busy, setBusy] = useState(false);
  const id = uid('key');
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.token = key.trim();
    try {
      const who = await api('GET', '/api/whoami');
      setKey('');
      onSignedIn(who);
    } catch (err) {
      session.clear();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>ulak</h1>
    <form onSubmit=${submit} aria-label="Sign in">
      <div class="field">
        <label for=${id}>API key (admin or organization)</label>
        <input id=${id} type="password" autocomplete="off" spellcheck=${false} required
               value=${key} onInput=${(e) => setKey(e.target.value)} />
      </div>
      <${ErrorBox} error=${error} />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    <p class="muted">The key stays in this tab only (sessionStorage) and is cleared when you sign out.</p>
  </main>`;
}

function OrgPicker({ who, onChange }) {
  const [orgs, setOrgs] = useState([]);
  const [error, setError] = useState(null);
  const id = uid('org');
  useEffect(() => {
    if (who.kind !== 'admin') return;
    api('GET', '/api/organizations', { query: { limit: 250 } })
      .then((d) => {
        setOrgs(d.organizations);
        if (!session.org && d.organizations.length) { session.org = d.organizations[0].id; onChange(); }
      })
      .catch(setError);
  }, [who]);
  if (who.kind !== 'admin') return null;
  return html`<div class="orgpicker">
    <label for=${id}>Organization</label>
    <select id=${id} value=${session.org} onChange=${(e) => { session.org = e.target.value; onChange(); }}>
      ${!session.org ? html`<option value="">(choose one)</option>` : null}
      ${orgs.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
    </select>
    <${ErrorBox} error=${error} />
  </div>`;
}

function App() {
  const [who, setWho] = useState(null);
  const [checking, setChecking] = useState(!!session.token);
  const [authError, setAuthError] = useState(null);
  const [route, setRoute] = useState(currentRoute());
  const [orgVersion, setOrgVersion] = useState(0);

  useEffect(() => {
    const onHash = () => {
      // A portal link opened in a tab already showing the UI only changes the fragment.
      if (location.hash.startsWith('#portal=')) { takePortalToken(); location.reload(); return; }
      setRoute(currentRoute());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (!session.token) return;
    api('GET', '/api/whoami').then(setWho).catch((e) => { session.clear(); setAuthError(e); })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return html`<p>Checking your session…</p>`;
  if (!who) return html`<${SignIn} error=${authError} onSignedIn=${(w) => { setWho(w); location.hash = w.kind === 'admin' ? '#/organizations' : '#/webhooks'; }} />`;

  const signOut = () => { session.clear(); setWho(null); setAuthError(null); history.replaceState(null, '', location.pathname); };
  const pages = PAGES.filter((p) => p.path !== 'organizations' || who.kind !== 'portal');
  const page = pages.find((p) => p.path === route.path) || pages.find((p) => p.path === 'webhooks');
  const Page = page.component;
  const needsOrg = who.kind === 'admin' && !session.org && page.path !== 'organizations';
  return html`<div class="layout">
    <header>
      <a class="brand" href="#/webhooks">ulak</a>
      <nav aria-label="Pages">
        ${pages.map((p) => html`<a href=${'#/' + p.path} aria-current=${p === page ? 'page' : undefined}>${p.title}</a>`)}
      </nav>
      <div class="session">
        <${OrgPicker} who=${who} onChange=${() => setOrgVersion(orgVersion + 1)} />
        <span class="badge" data-testid="session-kind">${who.kind === 'portal' ? 'Portal' : who.kind === 'admin' ? 'Admin' : 'Organization'}</span>
        <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main>
      <h1>${page.title}</h1>
      ${needsOrg ? html`<p>Create or choose an organization first (Organizations page).</p>`
                 : html`<${Page} key=${page.path + ':' + session.org + ':' + orgVersion} who=${who} params=${route.params} />`}
    </main>
  </div>`;
}

takePortalToken();
const root = document.getElementById('app');
root.textContent = '';  // drop the static "Loading" placeholder
render(html`<${App} />`, root);
