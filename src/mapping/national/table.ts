// The declarative part of a national FHIR profile adapter, read from the country's
// profile.json (data, with the published source of each URI): which identifier systems the national
// profile uses and how they correspond to migfhir's (src/mapping/identifier-systems.json),
// which extensions are renamed, which national profile each resource type claims. The engine
// (patient.ts, bundle.ts) reads these tables both ways; country folders add code only for what a
// table cannot say (Coverage, name parts, message envelopes, record transitions).
import type { Coding } from 'fhir/r4.js';
import type { CheckName } from './checks.ts';

export interface IdentifierRule {
  /** the entry of identifier-systems.json whose system migfhir stores */
  id: string;
  /** the national profile's system, when it differs from migfhir's (written on export) */
  nationalSystem?: string;
  /** older national systems still read on import (e.g. OIDs a profile has since replaced) */
  accept?: string[];
  /** Identifier.use the national profile writes (e.g. 'official' for the Greek AMKA) */
  nationalUse?: 'official' | 'usual' | 'secondary';
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
  /** Patient.name cardinality of the national Patient profile (see names.ts) */
  minNames?: number;
  maxNames?: number;
  /** HumanName.given cardinality of the national profile's name */
  maxGiven?: number;
  /** what a name must hold: 'family-or-given' (names without either are not exported), 'family-and-given' (else refused) */
  nameParts?: 'family-or-given' | 'family-and-given';
  /** the profile requires exactly one name with use=official, with a family and a given name (ISiK) */
  officialName?: boolean;
  /** Patient.identifier minimum of the national profile (pl-base-patient: 1..*) */
  minIdentifiers?: number;
  /** the system of the patient number written when the national profile requires one (ISiK Patientennummer) */
  patientNumber?: { system: string; type: Coding };
}

/** Extensions migfhir recognises; any other extension a national resource carries is kept and reported. */
export const KNOWN_EXTENSION_PREFIXES = ['http://hl7.org/fhir/StructureDefinition/', 'https://migfhir.org/fhir/StructureDefinition/'];
