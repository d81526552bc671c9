// Assigning authorities ↔ FHIR identifier systems, from the declarative table
// identifier-systems.json. Every adapter that meets a national identifier (HL7 v2 CX-4, a CSV
// column, a national FHIR profile) resolves it here, so one table decides the system URIs.
import file from './identifier-systems.json' with { type: 'json' };
import { checkDataFile } from '../schemas/check.ts';

/** An assigning authority as HL7 v2 writes it (HD: namespace id, universal id, its type). */
export interface Authority {
  namespace?: string;
  universalId?: string;
  universalIdType?: string;
}

export interface IdentifierSystem {
  id: string;
  country: string;
  label: string;
  authorities: string[];
  oid?: string;
  system: string;
  type: { system: string; code: string };
  use?: 'temp';
  /** its mere presence reveals a migration status (src/auth/sensitive-identifiers.ts) */
  revealsStatus?: boolean;
  /** other system URIs the same numbers are written under */
  aliases?: string[];
}

const table = checkDataFile<typeof file>(new URL('./identifier-systems.json', import.meta.url), file, 'identifier-systems');
export const IDENTIFIER_SYSTEMS: readonly IdentifierSystem[] = table.systems as IdentifierSystem[];
const PASSPORT_PREFIX = table.passport.systemPrefix;
const LOCAL_PREFIX = table.local.systemPrefix;

const byAuthority = new Map<string, IdentifierSystem>();
const byOid = new Map<string, IdentifierSystem>();
const bySystem = new Map<string, IdentifierSystem>();
for (const s of IDENTIFIER_SYSTEMS) {
  for (const a of s.authorities) byAuthority.set(a.toUpperCase(), s);
  if (s.oid) byOid.set(s.oid, s);
  bySystem.set(s.system, s);
}

/** ICAO 9303 / ISO 3166-1 alpha-3 codes, plus the MRZ's stateless and refugee codes. */
const ALPHA3 = /^(?:[A-Z]{3}|XX[ABCX])$/;

/**
 * The FHIR system of an identifier issued by `authority`, whose v2 type is `typeCode`. Order:
 * an explicit universal id (ISO OID, URI, UUID; the table's entry when it is one of its OIDs or
 * systems), the table (namespace alias), a passport of an issuing state, and last the
 * authority's own name under migfhir's namespace.
 */
export function systemForAuthority(authority: Authority, typeCode?: string): { system: string; known?: IdentifierSystem } | undefined {
  const ns = authority.namespace?.trim();
  const uid = authority.universalId?.trim();
  const uidType = authority.universalIdType?.trim().toUpperCase();
  // the sender's explicit universal id wins: the namespace-name look-up only fills in a system
  // the message leaves out (a table OID or URI still resolves to the table's entry)
  const explicit = uid ? explicitSystem(uid, uidType) : undefined;
  if (explicit) {
    const known = (uidType === 'ISO' ? byOid.get(uid!) : undefined) ?? bySystem.get(explicit);
    return known ? { system: known.system, known } : { system: explicit };
  }
  const known = ns && byAuthority.get(ns.toUpperCase());
  if (known) return { system: known.system, known };
  if (typeCode === 'PPN' && ns && ALPHA3.test(ns.toUpperCase())) return { system: `${PASSPORT_PREFIX}${ns.toUpperCase()}` };
  if (ns) return { system: `${LOCAL_PREFIX}${encodeURIComponent(ns)}` };
  return undefined;
}

/** HD-2/HD-3 as a system: an ISO OID, a URI or a UUID; undefined when it is none of them. */
function explicitSystem(uid: string, uidType: string | undefined): string | undefined {
  if (uidType === 'ISO' && /^[0-2](\.(0|[1-9]\d*))+$/.test(uid)) return `urn:oid:${uid}`;
  if ((uidType === 'URI' || uidType === 'URL') && /^[a-z][a-z0-9+.-]*:/i.test(uid)) return uid;
  if (uidType === 'UUID' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uid)) return `urn:uuid:${uid.toLowerCase()}`;
  return undefined;
}

/** The assigning authority to write for a FHIR system (the inverse of systemForAuthority). */
export function authorityForSystem(system: string): Authority {
  const known = bySystem.get(system);
  if (known) return known.oid ? { namespace: known.authorities[0], universalId: known.oid, universalIdType: 'ISO' } : { namespace: known.authorities[0] };
  if (system.startsWith(PASSPORT_PREFIX)) return { namespace: system.slice(PASSPORT_PREFIX.length) };
  if (system.startsWith(LOCAL_PREFIX)) return { namespace: decodeURIComponent(system.slice(LOCAL_PREFIX.length)) };
  if (system.startsWith('urn:oid:')) return { universalId: system.slice(8), universalIdType: 'ISO' };
  if (system.startsWith('urn:uuid:')) return { universalId: system.slice(9), universalIdType: 'UUID' };
  return { universalId: system, universalIdType: 'URI' };
}
