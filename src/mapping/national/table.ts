// The declarative part of a national FHIR profile adapter: which identifier systems the national
// profile uses and how they correspond to migfhir's (src/mapping/identifier-systems.json),
// which extensions are renamed, which national profile each resource type claims. The engine
// (patient.ts, bundle.ts) reads these tables both ways; country folders add code only for what a
// table cannot say (Coverage, name parts, message envelopes, record transitions).
import type { Coding } from 'fhir/r4.js';
import type { CheckName } from './checks.ts';

export interface IdentifierRule {
  /** the entry of identifier-systems.json whose system migfhir stores */
  id: string;
  /** the national profile's system, when it differs from migfhir's */
  nationalSystem?: string;
  /** Identifier.type the national profile writes */
  nationalType?: Coding;
  /** extra type coding migfhir's profile slices on (e.g. the EHIC slice) */
  migfhirType?: Coding;
  /** format and check-digit rule (checks.ts); a failing value is refused */
  check?: CheckName;
  /** 'digits': separators (spaces, hyphens) the national form allows are removed first */
  normalize?: 'digits';
}

export interface ExtensionRule {
  national: string;
  migfhir: string;
}

export interface NationalTable {
  /** the adapter id, e.g. 'de' (ISO 3166-1 alpha-2, lower case) */
  id: string;
  version: string;
  country: string;
  title: string;
  system: string;
  /** resource type → the national profile's canonical, claimed in meta.profile on the way out */
  profiles: Record<string, string>;
  identifiers: IdentifierRule[];
  /** national extension URL ↔ migfhir extension URL */
  extensions?: ExtensionRule[];
  /** national extensions kept unchanged in migfhir without a warning (national code systems by URI) */
  keep?: string[];
}

/** Extensions migfhir recognises; any other extension a national resource carries is kept and reported. */
export const KNOWN_EXTENSION_PREFIXES = ['http://hl7.org/fhir/StructureDefinition/', 'https://migfhir.org/fhir/StructureDefinition/'];
