// An AuditEvent as the trail stores it, written straight from the event's fields (src/audit/
// audit.ts AuditInput: client, purpose, action/subtype, outcome, patient, resource, query,
// address, time) as JSON text: the same characters as `chained(previous, withMeta(auditEvent(…)))`
// serialized — key order, escaping, optional parts — without building the resource object or
// serializing it, which was a third of the audit worker's JavaScript time an event. Every part of
// the text comes from a field, so the hash over it covers each field that a reader is shown
// (meta included); test/audit/render.test.ts compares the two paths on every event shape.
//
// Since the compact encoding (#19), an event's hash no longer covers that JSON but the compact
// encoding of its fields (encodedFields, specified in docs/audit.md): the rendering is a pure
// function of the fields, the time it was stored (meta.lastUpdated) and the encoding's version,
// so the hash still covers every field that is shown, meta included, and the worker that stores
// an event hashes ~150 bytes instead of rendering and hashing ~1.2 KB.
import { hash as digest } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4.js';
import { LABELS } from '../auth/sensitive.ts';
import { ANONYMOUS_CLIENT, chainHash, CHAIN_URL, CLIENT_SYSTEM, LOGIN, outcome, REST, RESTFUL_INTERACTION, USER_AUTHENTICATION, type QueuedAudit } from './audit.ts';

const str = JSON.stringify;

// the constant parts, serialized once (as auditEvent() writes them)
const SECURITY = `,"security":${str(LABELS)}`;
const LOGIN_TYPE = `"type":${str(USER_AUTHENTICATION)},"subtype":[${str(LOGIN)}]`;
const REST_TYPE = `"type":${str(REST)},"subtype":[{"system":${str(RESTFUL_INTERACTION)},"code":`;
const AGENT = `"agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/extra-security-role-type","code":"datacollector","display":"data collector"}]},"who":{"identifier":{"system":${str(CLIENT_SYSTEM)},"value":`;
const SOURCE = `"source":{"observer":{"display":"migfhir"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4","display":"Application Server"}]}`;
const SYSTEM_OBJECT = `"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2","display":"System Object"}`;
const PERSON = `"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}`;
const QUERY_ROLE = `"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"24","display":"Query"}`;

const iso = (ms: number) => new Date(ms).toISOString();

/** A purpose of use (`system|code`) as auditEvent() codes it. */
function purpose(p: string): string {
  const [system, code] = p.split('|');
  return `{"coding":[{"system":${str(system)}${code === undefined ? '' : `,"code":${str(code)}`}}]}`;
}

/** What a stored AuditEvent shows, field by field: an event as the trail keeps it (src/store/
 * sqlite/audit-ledger.ts keeps one row of these per event). */
export interface AuditFields {
  id: string;
  login: boolean;
  /** labelled as the sensitive data its query reads (meta.security) */
  sensitive: boolean;
  /** subtype code: the restful interaction, or DICOM's Login */
  sub: string;
  action: string;
  period?: { start: number; end: number };
  /** recorded, epoch ms */
  at: number;
  outcome: string;
  outcomeDesc?: string;
  /** purposes of use, `system|code` */
  purposes?: string[];
  client: string;
  address?: string;
  /** entity.what of the resource acted on */
  what?: string;
  /** the patient entity, only when it is not `what` */
  patient?: string;
  /** a search's query, as sent (stored base64 in entity.query) */
  query?: string;
}

/** A purpose as the event shows it: `system|code`, anything past a second bar is not shown
 * (purpose()), so it is not kept either — what is kept and hashed is what is shown. */
function shownPurpose(p: string): string {
  const bar = p.indexOf('|');
  const second = bar < 0 ? -1 : p.indexOf('|', bar + 1);
  return second < 0 ? p : p.slice(0, second);
}

/** The fields of a queued event. */
export function fieldsOf(e: QueuedAudit): AuditFields {
  return {
    id: e.id,
    login: e.kind === 'login',
    sensitive: !!e.sensitive,
    sub: e.kind === 'login' ? LOGIN.code : e.interaction,
    action: e.action,
    ...(e.period ? { period: e.period } : {}),
    at: e.at,
    outcome: outcome(e.status),
    ...(e.status >= 400 ? { outcomeDesc: e.description ?? `HTTP ${e.status}` } : {}),
    ...(e.purposeOfUse?.length ? { purposes: e.purposeOfUse.map(shownPurpose) } : {}),
    client: e.clientId ?? ANONYMOUS_CLIENT,
    ...(e.address ? { address: e.address } : {}),
    ...(e.what ? { what: e.what } : {}),
    ...(e.patient && e.patient !== e.what ? { patient: e.patient } : {}),
    ...(e.query ? { query: e.query } : {}),
  };
}

/** The stored JSON of the event without its chain link: what the link's hash covers. */
export function unlinkedJson(e: QueuedAudit, lastUpdated: string): string {
  return renderUnlinked(fieldsOf(e), lastUpdated);
}

/** The stored JSON of an event's fields without its chain link. */
export function renderUnlinked(f: AuditFields, lastUpdated: string): string {
  let out = `{"resourceType":"AuditEvent","id":${str(f.id)},"meta":{"versionId":"1","lastUpdated":${str(lastUpdated)}${f.sensitive ? SECURITY : ''}},`;
  out += f.login ? LOGIN_TYPE : `${REST_TYPE}${str(f.sub)}}]`;
  out += `,"action":${str(f.action)}`;
  if (f.period) out += `,"period":{"start":"${iso(f.period.start)}","end":"${iso(f.period.end)}"}`;
  out += `,"recorded":"${iso(f.at)}","outcome":${str(f.outcome)}`;
  if (f.outcomeDesc !== undefined) out += `,"outcomeDesc":${str(f.outcomeDesc)}`;
  if (f.purposes?.length) out += `,"purposeOfEvent":[${f.purposes.map(purpose).join(',')}]`;
  const client = str(f.client);
  out += `,${AGENT}${client}}},"altId":${client},"requestor":true${f.address ? `,"network":{"address":${str(f.address)},"type":"2"}` : ''}}],${SOURCE}`;
  const entities: string[] = [];
  if (f.what) entities.push(`{"what":{"reference":${str(f.what)}},${SYSTEM_OBJECT}}`);
  if (f.patient) entities.push(`{"what":{"reference":${str(f.patient)}},${PERSON}}`);
  if (f.query) entities.push(`{${SYSTEM_OBJECT},${QUERY_ROLE},"query":"${Buffer.from(f.query).toString('base64')}"}`);
  if (entities.length) out += `,"entity":[${entities.join(',')}]`;
  return `${out}}`;
}

/** The unlinked JSON with its chain link appended: the event as readers get it. `encoding`: the
 * hash is over the compact encoding of that version (ENCODING), named in the link so that an
 * exported event says how to check it; absent, over the unlinked JSON (events stored before it). */
export function linkedJson(unlinked: string, previous: string, hash: string, encoding?: string): string {
  const named = encoding === undefined ? '' : `,{"url":"encoding","valueString":"${encoding}"}`;
  const link = `"extension":[{"url":"${CHAIN_URL}","extension":[{"url":"previous","valueString":"${previous}"},{"url":"hash","valueString":"${hash}"}${named}]}]`;
  return `${unlinked.slice(0, -1)},${link}}`;
}

/** The version of the compact encoding, first element of every encoded event and the value of
 * the chain link's `encoding`: it fixes every constant part of the rendering (codes, displays,
 * versionId "1"), which the encoding therefore leaves out. */
export const ENCODING = 'migfhir-audit-event:2';

/** The compact encoding of an event's fields, stored at `updated` (epoch ms, meta.lastUpdated):
 * the JSON (RFC 8785 canonical: strings, integers, null, one array) of the fields in a fixed
 * order, absent ones null. docs/audit.md, *The hash*, specifies it for external verifiers. */
export function encodedFields(f: AuditFields, updated: number): string {
  return JSON.stringify([
    ENCODING, f.id, updated, (f.login ? 1 : 0) | (f.sensitive ? 2 : 0), f.sub, f.action, f.period?.start ?? null, f.period?.end ?? null, f.at,
    f.outcome, f.outcomeDesc ?? null, f.purposes?.length ? f.purposes : null, f.client, f.address ?? null, f.what ?? null, f.patient ?? null, f.query ?? null,
  ]);
}

/** The chain hash of an event in the compact encoding: sha256 over the previous hash (hex) and
 * the encoding, as UTF-8, in hex. */
export function encodedHash(previous: string, f: AuditFields, updated: number): string {
  return digest('sha256', previous + encodedFields(f, updated), 'hex');
}

/** The fields of a stored AuditEvent, as far as they go: an event this server wrote gives back
 * every field it was rendered from (the exact inverse of renderUnlinked, which verification of
 * the compact encoding relies on); another shape the fields search reads. */
export function fieldsOfEvent(e: AuditEvent): AuditFields {
  const login = e.type?.code === '110114';
  const entities = e.entity ?? [];
  const what = entities.find((x) => x.what?.reference && x.role?.code !== '1')?.what?.reference;
  const patient = entities.find((x) => x.what?.reference && x.role?.code === '1')?.what?.reference;
  const query = entities.find((x) => x.query !== undefined)?.query;
  const agent = e.agent?.[0];
  const purposes = (e.purposeOfEvent ?? []).map((p) => {
    const c = p.coding?.[0];
    return c?.code === undefined ? `${c?.system ?? ''}` : `${c.system ?? ''}|${c.code}`;
  });
  const ms = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));
  const period = e.period?.start && e.period.end ? { start: ms(e.period.start)!, end: ms(e.period.end)! } : undefined;
  return {
    id: e.id!,
    login,
    sensitive: (e.meta?.security?.length ?? 0) > 0,
    sub: e.subtype?.[0]?.code ?? (login ? LOGIN.code : ''),
    action: e.action ?? '',
    ...(period ? { period } : {}),
    at: ms(e.recorded) ?? 0,
    outcome: e.outcome ?? '',
    ...(e.outcomeDesc !== undefined ? { outcomeDesc: e.outcomeDesc } : {}),
    ...(purposes.length ? { purposes } : {}),
    client: agent?.altId ?? agent?.who?.identifier?.value ?? '',
    ...(agent?.network?.address ? { address: agent.network.address } : {}),
    ...(what ? { what } : {}),
    ...(patient && patient !== what ? { patient } : {}),
    ...(query ? { query: Buffer.from(query, 'base64').toString() } : {}),
  };
}

/** The event as stored, chained after `previous`, and its hash. */
export function storedEvent(previous: string, e: QueuedAudit, lastUpdated: string): { json: string; hash: string } {
  const unlinked = unlinkedJson(e, lastUpdated);
  // one-shot: the same sha256 as createHash().update(previous).update(unlinked), ~1.5 µs less an
  // event than building a Hash object (the audit worker hashes every event it stores)
  const hash = digest('sha256', previous + unlinked, 'hex');
  return { json: linkedJson(unlinked, previous, hash), hash };
}

/** Whether an event's content matches its hash, in the form its link names: the compact
 * encoding of the fields it shows (which must render back to exactly the event, or a field
 * the encoding does not cover was added or changed), or the JSON without the link. */
export function contentMatches(event: AuditEvent, json: string, link: { previous?: string; hash?: string; encoding?: string }): boolean {
  if (link.encoding === undefined) return link.hash === chainHash(link.previous ?? '', event);
  if (link.encoding !== ENCODING || link.previous === undefined) return false;
  const fields = fieldsOfEvent(event);
  const updated = Date.parse(event.meta?.lastUpdated ?? '');
  if (Number.isNaN(updated) || link.hash !== encodedHash(link.previous, fields, updated)) return false;
  return linkedJson(renderUnlinked(fields, event.meta!.lastUpdated!), link.previous, link.hash!, ENCODING) === json;
}
