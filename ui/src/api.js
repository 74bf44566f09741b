// The API client: the session's bearer token (an API key or a portal token) lives in
// sessionStorage only: never in a URL, never in a cookie. Every error carries the API's
// message and the field it names (when the message starts with one).
const TOKEN = 'ulak.token';
const ORG = 'ulak.org';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN) || ''; },
  set token(v) { v ? sessionStorage.setItem(TOKEN, v) : sessionStorage.removeItem(TOKEN); },
  get org() { return sessionStorage.getItem(ORG) || ''; },
  set org(v) { v ? sessionStorage.setItem(ORG, v) : sessionStorage.removeItem(ORG); },
  clear() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(ORG); },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    const m = /^([a-z_][a-z0-9_.]*)\b/.exec(message || '');
    this.field = m ? m[1] : '';
  }
}

export async function api(method, path, { query, body } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Authorization: 'Bearer ' + session.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'Cannot reach the server: ' + e.message);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err ? err.code : 'http_' + res.status,
                       err ? err.message : `The server answered HTTP ${res.status}.`);
  }
  return data;
}

// Adds organization_id for the admin key, which must name one; organization keys and portal
// sessions act on their own organization.
export function scoped(who, extra = {}) {
  if (who && who.kind === 'admin') return { organization_id: session.org, ...extra };
  return extra;
}
