// Sensitive migration data (WHO Europe: protect migration-health data from misuse). Elements
// that reveal migration status, the migration journey or vulnerabilities — the IG's extensions
// for them — are labelled on write with meta.security (restricted confidentiality, a
// migration-data sensitivity and a no-disclosure-for-non-health-purposes policy). Clients
// without the explicit scope MIGRATION_SCOPE receive such resources with those elements and
// labels removed, and cannot search on them. The same holds for FHIR content
// carried as base64 data (Binary, attachments) and for elements labelled inline with DS4P's
// extension (answers to sensitive questions). The labels themselves are part of what is withheld:
// `migration` on a resource says "this person has a migration status" as plainly as the
// extension does, so such clients see no sensitivity label, and no per-resource marker either
// (a REDACTED label only on resources that lost something would be the same oracle). What tells
// them that data is withheld is one notice on every answer they get, whoever it is about
// (WITHHELD_HEADER, set in src/http/hardening.ts). Whatever the server generates from stored data
// (narrative, exports, scores, diagnostics) is generated from viewFor(auth), the client's view.
// Identifiers whose presence reveals a migration status (src/auth/sensitive-identifiers.ts: an
// LMA card, a PAAYPA, an STP, a UNHCR registration …) are sensitive elements too, anywhere in a
// resource (Reference.identifier included).
import { serialize, type ResponseBody } from '../fhir/body.ts';
import type { Coding, Extension, Resource } from 'fhir/r4.js';
import { forbidden } from './authorize.ts';
import { isStatusRevealingIdentifier, STATUS_REVEALING_SYSTEMS } from './sensitive-identifiers.ts';

export { MIGRATION_DATA_SCOPE as MIGRATION_SCOPE } from './scopes.ts';
export const SENSITIVITY_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/sensitivity';
const MARKER = SENSITIVITY_SYSTEM;

export const LABELS: Coding[] = [
  { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', display: 'restricted' },
  { system: SENSITIVITY_SYSTEM, code: 'migration', display: 'migration status, journey or vulnerability' },
  { system: SENSITIVITY_SYSTEM, code: 'no-non-health-use', display: 'no disclosure for non-health purposes' },
];
/** Earlier versions put this label on each redacted resource. It is no longer sent (it told
 * whose record held migration data); one still echoed back in a write is dropped. */
export const REDACTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };

/** The notice on every answer to a client without the migration-data scope, whatever the answer
 * holds: per answer and not per resource, so that it says what this client is not shown, never
 * whose record had something to hide (src/http/hardening.ts sets it). */
export const WITHHELD_HEADER = 'x-sensitive-data';
export const WITHHELD_NOTICE = 'withheld; scope="migfhir/migration-data.read"';

/** One of LABELS (system and code), which the view of a labelled resource leaves out. */
export function isSensitivityLabel(c: { system?: unknown; code?: unknown } | null | undefined): boolean {
  return !!c && LABELS.some((l) => l.system === c.system && l.code === c.code);
}

/** The resource's meta without the sensitivity labels (a copy; the same object when it has
 * none). The restricted-confidentiality code goes too: the server puts it only on migration
 * data, so on its own it would tell the same. */
function metaWithoutLabels(r: Record<string, unknown>): Record<string, unknown> {
  const meta = r.meta as { security?: Coding[] } | undefined;
  if (!meta?.security?.some((c) => isSensitivityLabel(c) || (c.system === REDACTED.system && c.code === REDACTED.code))) return r;
  const security = meta.security.filter((c) => !isSensitivityLabel(c) && !(c.system === REDACTED.system && c.code === REDACTED.code));
  const { security: _s, ...rest } = meta;
  void _s;
  return { ...r, meta: security.length ? { ...rest, security } : rest };
}

/** Extension URLs of sensitive elements: the IG's own (any canonical base) by their names. */
const SENSITIVE_EXTENSION = /\/StructureDefinition\/(migration-?status|migration-?journey|vulnerabilit(y|ies)|asylum[-a-z]*|residence-?status)$/i;

export function isSensitiveExtension(url: unknown): boolean {
  return typeof url === 'string' && SENSITIVE_EXTENSION.test(url);
}

/** DS4P's inline security label (http://hl7.org/fhir/uv/security-label-ds4p, 1.0.0): an
 * element-level label, here with the migration-data sensitivity code. The server puts it on
 * QuestionnaireResponse items that answer a question the IG marks sensitive
 * (src/questionnaire/sensitive-items.ts): the element carrying it is removed whole, with its
 * answers and nested items, for clients without the scope. */
export const INLINE_LABEL = 'http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label';
export const MIGRATION_LABEL: Coding = LABELS[1];

function isMigrationMark(value: unknown): boolean {
  const e = value as { url?: unknown; valueCoding?: Coding } | null;
  return !!e && e.url === INLINE_LABEL && e.valueCoding?.system === SENSITIVITY_SYSTEM && e.valueCoding.code === MIGRATION_LABEL.code;
}

/** An element labelled inline as migration data (removed whole by redaction). */
function isMarked(value: unknown): boolean {
  const ext = (value as { extension?: unknown } | null)?.extension;
  return Array.isArray(ext) && ext.some(isMigrationMark);
}

// Raw content: a Binary, or an Attachment (DocumentReference.content.attachment, Media.content,
// Communication.payload.contentAttachment, an answer's valueAttachment), whose base64 data is a
// FHIR resource. JSON is parsed and treated as the rest of the resource; XML (and JSON that does
// not parse) is searched as text for the sensitive extensions and the inline label, and when
// found its data is withheld whole, since it cannot be redacted element by element here.
// Nesting (a Binary holding a Bundle holding a DocumentReference …) is bounded: each decoding
// costs EMBEDDED_DEPTH of the depth budget, so at most three levels are decoded; content nested
// deeper, or over MAX_EMBEDDED_BYTES, is not decoded and counts as sensitive (labelled, withheld).
const JSON_CONTENT = /^application\/(fhir\+json|json\+fhir|json)\s*(;|$)/i;
const XML_CONTENT = /^(application|text)\/(fhir\+xml|xml\+fhir|xml)\s*(;|$)/i;
const EMBEDDED_DEPTH = 16;
const MAX_DEPTH = 64;
const MAX_EMBEDDED_BYTES = 16 * 1024 * 1024;
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const SENSITIVE_TEXT = new RegExp(`${SENSITIVE_EXTENSION.source.replace(/\$$/, '')}|${[INLINE_LABEL, ...STATUS_REVEALING_SYSTEMS].map(escaped).join('|')}`, 'i');

/** A sensitive element removed whole by redaction: a sensitive extension, an element labelled
 * inline, an Identifier that reveals a migration status. */
function isSensitiveElement(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  return isSensitiveExtension((v as Record<string, unknown>).url) || isMarked(v) || isStatusRevealingIdentifier(v);
}

type Embedded = { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'unreadable' } | undefined;

/** The FHIR content an object with contentType and base64 data carries, if any. */
function embedded(obj: Record<string, unknown>): Embedded {
  if (typeof obj.data !== 'string' || typeof obj.contentType !== 'string') return undefined;
  const json = JSON_CONTENT.test(obj.contentType);
  if (!json && !XML_CONTENT.test(obj.contentType)) return undefined;
  if (obj.data.length > (MAX_EMBEDDED_BYTES * 4) / 3 + 4) return { kind: 'unreadable' };
  const text = Buffer.from(obj.data, 'base64').toString('utf8');
  if (json) {
    try {
      return { kind: 'json', value: JSON.parse(text) };
    } catch {
      // not JSON after all: searched as text
    }
  }
  return { kind: 'text', text };
}

/** Which sensitive elements a walk looks for: the extensions and inline labels (with base64
 * content), the status-revealing identifiers, or both. */
interface Kinds {
  extensions: boolean;
  identifiers: boolean;
}
const ALL: Kinds = { extensions: true, identifiers: true };

function hasSensitive(value: unknown, depth = 0, kinds: Kinds = ALL): boolean {
  if (depth > MAX_DEPTH || !value || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasSensitive(v, depth + 1, kinds));
  const obj = value as Record<string, unknown>;
  if (kinds.extensions && (isSensitiveExtension(obj.url) || isMigrationMark(obj))) return true;
  if (kinds.identifiers && isStatusRevealingIdentifier(obj)) return true;
  if (kinds.extensions) {
    const inner = embedded(obj);
    if (inner && embeddedSensitive(inner, depth)) return true;
  }
  return Object.entries(obj).some(([k, v]) => k !== 'meta' && typeof v === 'object' && hasSensitive(v, depth + 1, kinds));
}

/** Which kinds of sensitive elements a resource holds (content in base64 data counts as
 * extensions: it is withheld or redacted as a whole). */
export function sensitiveContent(resource: Resource): Kinds {
  return {
    extensions: hasSensitive(resource, 0, { extensions: true, identifiers: false }),
    identifiers: hasSensitive(resource, 0, { extensions: false, identifiers: true }),
  };
}

/** Whether decoded content holds sensitive elements. Content the server cannot inspect counts
 * as sensitive: too large to decode, or nested deeper than the depth budget (its own base64
 * content could hide anything). */
function embeddedSensitive(inner: NonNullable<Embedded>, depth: number): boolean {
  if (inner.kind === 'unreadable' || depth + EMBEDDED_DEPTH > MAX_DEPTH) return true;
  if (inner.kind === 'text') return SENSITIVE_TEXT.test(inner.text);
  return hasSensitive(inner.value, depth + EMBEDDED_DEPTH);
}

/** Adds the labels to a resource holding sensitive elements (in place). */
export function labelSensitive(resource: Resource): void {
  if (!hasSensitive(resource)) return;
  const security = [...(resource.meta?.security ?? [])];
  for (const l of LABELS) if (!security.some((s) => s.system === l.system && s.code === l.code)) security.push(l);
  resource.meta = { ...resource.meta, security };
}

function strip(value: unknown, depth = 0, identifiers = true): unknown {
  if (depth > MAX_DEPTH || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const kept = value.filter((v) => !(isSensitiveElement(v) && (identifiers || !isStatusRevealingIdentifier(v)))).map((v) => strip(v, depth + 1, identifiers));
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // a single Identifier (Reference.identifier, Identifier.assigner's) goes as an array item would
    if (identifiers && isStatusRevealingIdentifier(v)) continue;
    const s = strip(v, depth + 1, identifiers);
    if (Array.isArray(s) && s.length === 0) continue; // no empty arrays in FHIR JSON
    // nor empty objects: a Reference that was only its status-revealing identifier goes whole
    if (s !== v && s && typeof s === 'object' && !Array.isArray(s) && Object.keys(s).length === 0) continue;
    out[k] = s;
  }
  const inner = embedded(out);
  if (inner && embeddedSensitive(inner, depth)) return stripEmbedded(out, inner, depth);
  return out;
}

/** Raw content with sensitive elements: JSON is redacted and re-encoded (size follows, the
 * hash of the original goes: it would confirm a guess of the withheld content); content that
 * cannot be redacted element by element loses its data. */
function stripEmbedded(obj: Record<string, unknown>, inner: NonNullable<Embedded>, depth: number): Record<string, unknown> {
  const { hash: _hash, data: _data, size: _size, ...rest } = obj;
  void [_hash, _data, _size];
  if (inner.kind !== 'json' || depth + EMBEDDED_DEPTH > MAX_DEPTH) return rest;
  const redacted = redactResource(inner.value as Record<string, unknown>, depth + EMBEDDED_DEPTH);
  const bytes = Buffer.from(JSON.stringify(redacted), 'utf8');
  return { ...rest, data: bytes.toString('base64'), ...('size' in obj ? { size: bytes.length } : {}) };
}

/** A labelled AuditEvent records a request that read sensitive data: its query (entity.query,
 * e.g. `migration-status=irregular&family=…`), entity details and outcome text would tell what
 * was asked and what the server said, so they are withheld; who, when, what and the outcome
 * code stay. The query and details are withheld from every AuditEvent a client without the scope
 * reads, labelled or not: an event without its query among events with theirs would say "this
 * look-up, and the patient it names, was about migration data". The outcome text of an
 * unlabelled event stays (a refusal's reason, for the auditor). */
function withoutRequestText(event: Record<string, unknown>, labelled = true): void {
  if (labelled) delete event.outcomeDesc;
  if (!Array.isArray(event.entity)) return;
  event.entity = (event.entity as Record<string, unknown>[]).map((e) => {
    const { query: _query, detail: _detail, ...rest } = e;
    void [_query, _detail];
    return rest;
  });
}

/** The values (and systems) of the status-revealing identifiers in a resource. */
function statusIdentifierTexts(value: unknown, out: Set<string>, depth = 0): Set<string> {
  if (depth > MAX_DEPTH || !value || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) statusIdentifierTexts(v, out, depth + 1);
    return out;
  }
  const obj = value as Record<string, unknown>;
  if (isStatusRevealingIdentifier(obj)) {
    out.add(obj.system as string);
    if (typeof obj.value === 'string' && obj.value.trim()) out.add(obj.value.trim());
    return out;
  }
  for (const v of Object.values(obj)) if (typeof v === 'object') statusIdentifierTexts(v, out, depth + 1);
  return out;
}

/** A narrative written with the resource is the author's text, not generated from the view: one
 * that names a withheld status-revealing identifier (its value or system) would show it. The
 * server has no narrative generator for every resource type, so such a narrative is replaced,
 * not regenerated: status `empty` and a div saying it was withheld (the structured view stays
 * complete). The resource's own and its contained resources' narratives are checked. */
const WITHHELD_NARRATIVE = { status: 'empty', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Narrative withheld: it names data this client may not see.</p></div>' };

function withholdNarratives(original: Record<string, unknown>, redacted: Record<string, unknown>): void {
  const texts = statusIdentifierTexts(original, new Set());
  if (texts.size === 0) return;
  const names = (n: unknown) => {
    const div = (n as { div?: unknown } | undefined)?.div;
    return typeof div === 'string' && [...texts].some((t) => div.includes(t));
  };
  if (names(redacted.text)) redacted.text = WITHHELD_NARRATIVE;
  if (Array.isArray(redacted.contained)) {
    redacted.contained = (redacted.contained as Record<string, unknown>[]).map((c) => (c && names(c.text) ? { ...c, text: WITHHELD_NARRATIVE } : c));
  }
}

function auditEventView(event: Record<string, unknown>): Record<string, unknown> {
  const out = { ...event };
  withoutRequestText(out, false);
  return out;
}

function redactResource(r: Record<string, unknown>, depth = 0): Record<string, unknown> {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return strip(r, depth) as Record<string, unknown>;
  const meta = r.meta as { security?: Coding[] } | undefined;
  if (!meta?.security?.some((s) => s.system === SENSITIVITY_SYSTEM) && !(depth > 0 && hasSensitive(r, depth))) {
    if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
      return { ...r, entry: (r.entry as Record<string, unknown>[]).map((e) => (e.resource ? { ...e, resource: redactResource(e.resource as Record<string, unknown>, depth + 2) } : e)) };
    }
    // an unlabelled version holding sensitive elements: written before status-revealing
    // identifiers were labelled (history keeps such versions as they were) — redacted alike
    if (!hasSensitive(r, depth)) return r.resourceType === 'AuditEvent' ? auditEventView(r) : r;
  }
  const out = strip(r, depth) as Record<string, unknown>;
  if (typeof out.resourceType !== 'string') return out;
  withholdNarratives(r, out);
  if (out.resourceType === 'AuditEvent') withoutRequestText(out);
  // the labels go with what they label; nothing marks the resource as redacted (see the top)
  const view = metaWithoutLabels(out);
  if (Array.isArray(view.contained)) view.contained = (view.contained as Record<string, unknown>[]).map((c) => (c && typeof c === 'object' ? metaWithoutLabels(c) : c));
  return view;
}

/** What a client may see of stored resources ("the client's view"): every generator of text
 * or of another format (narrative, section text, displays, national and HL7 v2 exports,
 * scores, error diagnostics) builds from this view, never from the stored resource. With the
 * migration-data scope (or without authorization) it is the stored resource itself; without
 * the scope, resources carrying the sensitivity label lose their sensitive elements and the
 * labels. Unlabelled resources are returned as they are. */
export type View = <T extends Resource>(resource: T) => T;

export function viewFor(auth: { scopes: { sensitive: boolean } } | undefined): View {
  if (!auth || auth.scopes.sensitive) return (r) => r;
  return <T extends Resource>(r: T) => redactResource(r as unknown as Record<string, unknown>) as unknown as T;
}

/** What a client without the scope sees of a stored resource (patches apply to this view). */
export function withoutSensitive(resource: Resource): Resource {
  return metaWithoutLabels(strip(resource) as Record<string, unknown>) as unknown as Resource;
}

/** Whether a client sees the stored resources as they are (with the migration-data scope, or
 * without authorization), rather than their view. */
export function seesSensitive(auth: { scopes: { sensitive: boolean } } | undefined): boolean {
  return !auth || auth.scopes.sensitive;
}

/** A resource's meta as a client may see it ($meta): without the sensitivity labels for a
 * client without the scope. */
export function metaView<M extends { security?: Coding[] }>(auth: { scopes: { sensitive: boolean } } | undefined, meta: M): M {
  if (seesSensitive(auth) || !meta.security?.some(isSensitivityLabel)) return meta;
  const security = meta.security.filter((c) => !isSensitivityLabel(c));
  const { security: _s, ...rest } = meta;
  void _s;
  return (security.length ? { ...rest, security } : rest) as M;
}

/** The resource without its sensitive extensions and inline-labelled elements, its
 * status-revealing identifiers kept: what tells, at index time, which search parameters take
 * their sensitivity from the extensions (refused to clients without the scope) rather than from
 * identifiers alone (filtered row by row: src/search/sensitive-rows.ts). */
export function withoutSensitiveExtensions(resource: Resource): Resource {
  return strip(resource, 0, false) as Resource;
}

/** A write by a client without the scope: it could neither see the stored version's sensitive
 * elements nor change them, so they are kept — a PUT or PATCH from a system without the
 * migration-data scope must not erase a patient's migration data. The IG's sensitive
 * extensions sit on the resource root; a stored version holding others deeper in (from another
 * source) cannot be merged safely, and the write is refused (403) rather than losing them. The
 * client's own sensitive extensions are written where the stored version has none of that url,
 * and a REDACTED label echoed from a response is dropped. `storedVersion` may be the stored
 * JSON, which is then parsed only when it carries the sensitivity label. */
export function keepSensitive(next: Resource, storedVersion: Resource | string): Resource {
  const security = next.meta?.security?.filter((c) => !(c.system === REDACTED.system && c.code === REDACTED.code));
  const out = { ...next, ...(next.meta ? { meta: { ...next.meta, security } } : {}) } as Resource & { extension?: Extension[] };
  if (out.meta && !out.meta.security?.length) {
    const { security: _s, ...meta } = out.meta;
    out.meta = meta;
    if (Object.keys(meta).length === 0) delete out.meta;
  }
  // stored JSON without the sensitivity label (every write labels sensitive content) is not parsed
  // (versions written before status-revealing identifiers were labelled are looked at for them)
  if (typeof storedVersion === 'string' && !storedVersion.includes(MARKER) && !STATUS_REVEALING_SYSTEMS.some((s) => storedVersion.includes(s))) return out;
  const stored = typeof storedVersion === 'string' ? (JSON.parse(storedVersion) as Resource) : storedVersion;
  if (!hasSensitive(stored)) return out;
  const { extension: storedExtensions, identifier: storedIdentifiers, ...rest } = stored as Resource & { extension?: Extension[]; identifier?: unknown };
  // root identifiers: kept when they are status-revealing ones themselves
  const identifiersElsewhere = Array.isArray(storedIdentifiers) ? storedIdentifiers.some((i) => !isStatusRevealingIdentifier(i) && hasSensitive(i)) : hasSensitive(storedIdentifiers);
  if (hasSensitive(rest) || identifiersElsewhere) throw forbidden(`This ${stored.resourceType} holds migration data this client cannot see below its root; writing it needs the migration-data scope`);
  const kept = (storedExtensions ?? []).filter((e) => isSensitiveExtension(e.url));
  const urls = new Set(kept.map((e) => e.url));
  const extension = [...(out.extension ?? []).filter((e) => !(isSensitiveExtension(e.url) && urls.has(e.url))), ...kept];
  if (extension.length) out.extension = extension;
  if (Array.isArray(storedIdentifiers) && storedIdentifiers.some(isStatusRevealingIdentifier)) {
    (out as { identifier?: unknown[] }).identifier = keptIdentifiers(storedIdentifiers, (out as { identifier?: unknown }).identifier);
  }
  return out;
}

/** The identifiers of a write by a client without the scope: the stored status-revealing ones,
 * which it could neither see nor remove, and its own. Its own status-revealing identifiers are
 * written too (it knows them: a reception desk registering an LMA card), once each. When its
 * other identifiers are the stored ones unchanged, the stored order is kept, so that writing back
 * what was read is no change. */
function keptIdentifiers(stored: unknown[], written: unknown): unknown[] {
  const mine = Array.isArray(written) ? written : [];
  const hidden = stored.filter(isStatusRevealingIdentifier);
  const visible = stored.filter((i) => !isStatusRevealingIdentifier(i));
  const key = (i: unknown) => JSON.stringify(i);
  const hiddenKeys = new Set(hidden.map(key));
  const own = mine.filter((i) => !hiddenKeys.has(key(i)));
  if (own.length === visible.length && own.every((i, n) => key(i) === key(visible[n]))) return stored;
  return [...own, ...hidden];
}

/** Whether a body's text could hold anything a client without the scope may not see: the
 * sensitivity label, or a status-revealing identifier's system. Text without either is sent
 * as it is, unparsed. */
export function mayHoldSensitive(text: string): boolean {
  return text.includes(MARKER) || STATUS_REVEALING_SYSTEMS.some((s) => text.includes(s)) || text.includes(AUDIT_EVENT);
}
/** every AuditEvent loses its request text for such clients (withoutRequestText) */
const AUDIT_EVENT = '"resourceType":"AuditEvent"';

/** A parsed body as a client without the scope sees it (a copy where anything goes). */
export function redactParsed(body: Record<string, unknown>): Record<string, unknown> {
  return redactResource(body);
}

/** A response body with sensitive elements removed, for clients without the scope. Bodies
 * without the label are returned as they are, unparsed. */
export function redactBody(body: ResponseBody): ResponseBody {
  const text = serialize(body);
  if (!mayHoldSensitive(text)) return body;
  return redactResource(JSON.parse(text)) as unknown as Resource;
}

/** Search parameters whose expression reads sensitive extensions. */
export function isSensitiveExpression(expression: string | undefined): boolean {
  if (!expression) return false;
  return /extension\(\s*'[^']*\/StructureDefinition\/(migration-?status|migration-?journey|vulnerabilit(y|ies)|asylum[-a-z]*|residence-?status)'\s*\)/i.test(expression);
}
