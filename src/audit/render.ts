// An AuditEvent as the trail stores it, written straight from the event's fields (src/audit/
// audit.ts AuditInput: client, purpose, action/subtype, outcome, patient, resource, query,
// address, time) as JSON text: the same characters as `chained(previous, withMeta(auditEvent(…)))`
// serialized — key order, escaping, optional parts — without building the resource object or
// serializing it, which was a third of the audit worker's JavaScript time an event. Every part of
// the text comes from a field, so the hash over it covers each field that a reader is shown
// (meta included); test/audit/render.test.ts compares the two paths on every event shape.
import { hash as digest } from 'node:crypto';
import { LABELS } from '../auth/sensitive.ts';
import { ANONYMOUS_CLIENT, CHAIN_URL, CLIENT_SYSTEM, LOGIN, outcome, REST, RESTFUL_INTERACTION, USER_AUTHENTICATION, type QueuedAudit } from './audit.ts';

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

/** The stored JSON of the event without its chain link: what the link's hash covers. */
export function unlinkedJson(e: QueuedAudit, lastUpdated: string): string {
  let out = `{"resourceType":"AuditEvent","id":${str(e.id)},"meta":{"versionId":"1","lastUpdated":${str(lastUpdated)}${e.sensitive ? SECURITY : ''}},`;
  out += e.kind === 'login' ? LOGIN_TYPE : `${REST_TYPE}${str(e.interaction)}}]`;
  out += `,"action":${str(e.action)}`;
  if (e.period) out += `,"period":{"start":"${iso(e.period.start)}","end":"${iso(e.period.end)}"}`;
  out += `,"recorded":"${iso(e.at)}","outcome":"${outcome(e.status)}"`;
  if (e.status >= 400) out += `,"outcomeDesc":${str(e.description ?? `HTTP ${e.status}`)}`;
  if (e.purposeOfUse?.length) out += `,"purposeOfEvent":[${e.purposeOfUse.map(purpose).join(',')}]`;
  const client = str(e.clientId ?? ANONYMOUS_CLIENT);
  out += `,${AGENT}${client}}},"altId":${client},"requestor":true${e.address ? `,"network":{"address":${str(e.address)},"type":"2"}` : ''}}],${SOURCE}`;
  const entities: string[] = [];
  if (e.what) entities.push(`{"what":{"reference":${str(e.what)}},${SYSTEM_OBJECT}}`);
  if (e.patient && e.patient !== e.what) entities.push(`{"what":{"reference":${str(e.patient)}},${PERSON}}`);
  if (e.query) entities.push(`{${SYSTEM_OBJECT},${QUERY_ROLE},"query":"${Buffer.from(e.query).toString('base64')}"}`);
  if (entities.length) out += `,"entity":[${entities.join(',')}]`;
  return `${out}}`;
}

/** The event as stored, chained after `previous`, and its hash. */
export function storedEvent(previous: string, e: QueuedAudit, lastUpdated: string): { json: string; hash: string } {
  const unlinked = unlinkedJson(e, lastUpdated);
  // one-shot: the same sha256 as createHash().update(previous).update(unlinked), ~1.5 µs less an
  // event than building a Hash object (the audit worker hashes every event it stores)
  const hash = digest('sha256', previous + unlinked, 'hex');
  const link = `"extension":[{"url":"${CHAIN_URL}","extension":[{"url":"previous","valueString":"${previous}"},{"url":"hash","valueString":"${hash}"}]}]`;
  return { json: `${unlinked.slice(0, -1)},${link}}`, hash };
}
