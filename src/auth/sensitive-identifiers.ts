// Identifiers whose mere presence reveals a person's migration status: an asylum seeker's LMA
// card or PAAYPA number, an STP or ENI code, a UNHCR proGres or IOM registration, a DUF number
// (src/mapping/identifier-systems.json `revealsStatus`, where the choice of systems is argued).
// Such an Identifier is a sensitive element wherever it sits — Patient.identifier,
// RelatedPerson or Coverage identifiers, Reference.identifier, contained resources, Bundle
// entries, base64 FHIR content — and is treated like the sensitive extensions
// (src/auth/sensitive.ts): the resource is labelled on write, the Identifier is removed from
// the view of clients without the migration-data scope, and searches run over that view.
import { IDENTIFIER_SYSTEMS, type IdentifierSystem } from '../mapping/identifiers.ts';

/** Each status-revealing system URI (its own, its OID as urn:oid, its aliases) → its entry. */
const BY_SYSTEM = new Map<string, IdentifierSystem>();
for (const s of IDENTIFIER_SYSTEMS) {
  if (!s.revealsStatus) continue;
  for (const uri of [s.system, ...(s.oid ? [`urn:oid:${s.oid}`] : []), ...(s.aliases ?? [])]) BY_SYSTEM.set(uri, s);
}

/** Every status-revealing system URI, for text searches of content that cannot be parsed. */
export const STATUS_REVEALING_SYSTEMS: readonly string[] = [...BY_SYSTEM.keys()];

/** The identifier-systems.json entry of a status-revealing system, or undefined. */
export function statusRevealingEntry(system: unknown): IdentifierSystem | undefined {
  return typeof system === 'string' ? BY_SYSTEM.get(system) : undefined;
}

export function isStatusRevealingSystem(system: unknown): boolean {
  return typeof system === 'string' && BY_SYSTEM.has(system);
}

/** Whether a value is an Identifier (an object with a system, and a value or a type, not a
 * Coding) whose system reveals a migration status. A Coding with such a system has a `code`,
 * not a `value`, and is not an identifier. */
export function isStatusRevealingIdentifier(identifier: unknown): boolean {
  if (!identifier || typeof identifier !== 'object' || Array.isArray(identifier)) return false;
  const i = identifier as { system?: unknown; code?: unknown };
  return isStatusRevealingSystem(i.system) && i.code === undefined;
}

/** Whether a query string (or operation input) names a status-revealing system: the request's
 * AuditEvent then records which status a person was looked up by and is labelled. */
export function namesStatusRevealingSystem(text: string): boolean {
  if (!text) return false;
  let decoded = text;
  try {
    decoded = decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    // malformed escapes: the raw text is searched
  }
  return STATUS_REVEALING_SYSTEMS.some((s) => decoded.includes(s) || text.includes(s));
}
