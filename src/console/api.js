// The FHIR API as the console calls it: same origin, the base path from the page's meta
// element, and the operator's bearer token, kept in this tab's sessionStorage only (gone when
// the tab closes; never in localStorage, cookies or URLs).
const BASE = document.querySelector('meta[name="fhir-base"]')?.getAttribute('content') ?? '/fhir';
const TOKEN_KEY = 'migfhir.console.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx: its status and, when it is one, the OperationOutcome. */
export class ApiError extends Error {
  constructor(status, outcome) {
    const issues = outcome?.issue?.map((i) => i.diagnostics ?? i.details?.text ?? i.code).filter(Boolean) ?? [];
    super(`${status}${issues.length ? `: ${issues.join('; ')}` : ''}`);
    this.status = status;
    this.outcome = outcome;
  }
}

/** Calls `path` (relative to the FHIR base, or an absolute URL the server gave, e.g. a next
 * link); JSON bodies are sent as application/fhir+json, strings and bytes as they are. */
export async function fhir(path, options) {
  return (await fhirAnswer(path, options)).body;
}

/** The server's notice on every answer to a token without the migration-data scope (the same
 * on every answer, whoever it is about: src/auth/sensitive.ts WITHHELD_HEADER). */
const WITHHELD_HEADER = 'x-sensitive-data';

/** As fhir(), with whether the server said that sensitive elements are not shown to this token. */
export async function fhirAnswer(path, { method = 'GET', body, contentType, accept = 'application/fhir+json' } = {}) {
  const headers = { accept };
  if (body !== undefined) headers['content-type'] = contentType ?? 'application/fhir+json';
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  const url = /^https?:/.test(path) ? path : `${BASE}/${path}`;
  // no-store: answers differ by token (redacted or not) and hold health data; the browser's
  // cache must neither reuse one across tokens nor keep it
  const res = await fetch(url, { method, headers, cache: 'no-store', body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return { body: json, withheld: res.headers.has(WITHHELD_HEADER) };
}

/** A link the server wrote with its configured base URL (which may name another host than the
 * one the browser reached, behind a proxy), as a path relative to the base on this origin. */
function relative(link) {
  const u = new URL(link);
  const at = u.pathname.indexOf(`${BASE}/`);
  return (at >= 0 ? u.pathname.slice(at + BASE.length + 1) : u.pathname.replace(/^\//, '')) + u.search;
}

/** Every entry of a searchset, following next links up to `maxPages`. */
export async function allEntries(path, maxPages = 10) {
  const out = [];
  let next = path;
  for (let page = 0; next && page < maxPages; page++) {
    const bundle = await fhir(next);
    for (const e of bundle?.entry ?? []) if (e.resource) out.push(e.resource);
    const link = bundle?.link?.find((l) => l.relation === 'next')?.url;
    next = link ? relative(link) : undefined;
  }
  return out;
}
