// Shared pieces: html (htm bound to Preact), error display, copy buttons, fields, pager.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

let nextId = 0;
export function uid(prefix) { nextId += 1; return `${prefix}-${nextId}`; }

// The API's message, next to what caused it (role=alert so screen readers announce it).
export function ErrorBox({ error }) {
  if (!error) return null;
  const field = error.field ? html` <span class="muted">(field <code>${error.field}</code>)</span>` : null;
  return html`<p class="error" role="alert" data-field=${error.field || ''}>${error.message}${field}</p>`;
}

export function CopyButton({ text, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard blocked (insecure context): select the text for a manual copy instead.
      const t = document.createElement('textarea');
      t.value = text; document.body.appendChild(t); t.select();
      try { document.execCommand('copy'); } catch { /* nothing more to try */ }
      t.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return html`<button type="button" class="secondary" onClick=${copy}>${done ? 'Copied' : label}</button>`;
}

// A secret shown once, with its copy button.
export function SecretValue({ label, value, testid }) {
  const id = uid('secret');
  return html`<div class="secret">
    <label for=${id}>${label}</label>
    <div class="row"><input id=${id} readonly value=${value} data-testid=${testid} />
    <${CopyButton} text=${value} label=${'Copy ' + label.toLowerCase()} /></div>
  </div>`;
}

export function Field({ label, id, error, name, children, hint }) {
  const bad = error && error.field && name && error.field === name;
  return html`<div class=${'field' + (bad ? ' invalid' : '')}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<small class="muted">${hint}</small>` : null}
    ${bad ? html`<${ErrorBox} error=${error} />` : null}
  </div>`;
}

// Cursor pagination: the API's next_cursor, and a stack of earlier cursors for "Previous".
export function usePager() {
  const [stack, setStack] = useState(['']);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next(c) { if (c) setStack([...stack, c]); },
    prev() { if (stack.length > 1) setStack(stack.slice(0, -1)); },
    reset() { setStack(['']); },
  };
}

export function Pager({ pager, nextCursor, label }) {
  return html`<nav class="pager" aria-label=${label || 'Pages'}>
    <button type="button" class="secondary" disabled=${pager.page <= 1} onClick=${() => pager.prev()}>Previous page</button>
    <span>Page ${pager.page}</span>
    <button type="button" class="secondary" disabled=${!nextCursor} onClick=${() => pager.next(nextCursor)}>Next page</button>
  </nav>`;
}

export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}

export function pretty(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

export function absoluteUrl(path) { return new URL(path, location.origin).toString(); }
