// The IPS profile each resource of a summary is declared against (meta.profile), and the
// changes that make a stored R4 resource meet it. IPS (hl7.fhir.uv.ips 2.0.0) makes some elements
// mandatory that R4 leaves optional — Condition.code, Procedure.performed[x],
// MedicationStatement.effective[x], Patient.birthDate, a laboratory result's performer — and
// migrant records often lack them (a birth date never documented, a medication taken "since
// before the journey"). IPS's answer is to state the gap, not to invent a value: the element is
// sent with the data-absent-reason extension (http://hl7.org/fhir/uv/ips/STU2/design.html,
// "Missing data"). Nothing here changes a value the record holds.
import type { Resource } from 'fhir/r4.js';

export const IPS_PROFILE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/';
const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const DAR = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const DAR_SYSTEM = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

/** LOINC codes of the IPS pregnancy profiles (their required value sets) */
const PREGNANCY_STATUS = new Set(['82810-3']);
const PREGNANCY_OUTCOME = new Set(['11636-8', '11637-6', '11638-4', '11639-2', '11640-0', '11612-9', '11613-7', '11614-5', '33065-4']);
const PREGNANCY_EDD = new Set(['11778-8', '11779-6', '11780-4']);
/** codes of the pregnancy section's entries; an expected delivery date is a member of a status */
export const PREGNANCY_SECTION_CODES = new Set([...PREGNANCY_STATUS, ...PREGNANCY_OUTCOME]);

type Json = Record<string, any>;

const hasCategory = (r: Json, code: string) => (r.category ?? []).some((c: Json) => (c.coding ?? []).some((x: Json) => x.code === code));
const toTheDay = (r: Json) => typeof r.effectiveDateTime !== 'string' || r.effectiveDateTime.length >= 10;
const loinc = (r: Json, codes: Set<string>) => (r.code?.coding ?? []).some((c: Json) => c.system === 'http://loinc.org' && codes.has(c.code));

const BY_TYPE: Record<string, string> = {
  Composition: 'Composition-uv-ips',
  Patient: 'Patient-uv-ips',
  AllergyIntolerance: 'AllergyIntolerance-uv-ips',
  Condition: 'Condition-uv-ips',
  MedicationStatement: 'MedicationStatement-uv-ips',
  MedicationRequest: 'MedicationRequest-uv-ips',
  Medication: 'Medication-uv-ips',
  Immunization: 'Immunization-uv-ips',
  Procedure: 'Procedure-uv-ips',
  DiagnosticReport: 'DiagnosticReport-uv-ips',
  Organization: 'Organization-uv-ips',
  Practitioner: 'Practitioner-uv-ips',
  PractitionerRole: 'PractitionerRole-uv-ips',
  Specimen: 'Specimen-uv-ips',
};

/** The IPS profile for a resource of the summary; undefined when IPS has none for it (the
 * migration section's referrals and questionnaire responses, the authoring Device). */
export function ipsProfile(r: Resource): string | undefined {
  const o = r as Json;
  if (r.resourceType === 'Observation') {
    if (loinc(o, PREGNANCY_STATUS)) return `${IPS_PROFILE}Observation-pregnancy-status-uv-ips`;
    if (loinc(o, PREGNANCY_OUTCOME)) return `${IPS_PROFILE}Observation-pregnancy-outcome-uv-ips`;
    if (loinc(o, PREGNANCY_EDD)) return `${IPS_PROFILE}Observation-pregnancy-edd-uv-ips`;
    if (hasCategory(o, 'laboratory')) return `${IPS_PROFILE}Observation-results-laboratory-pathology-uv-ips`;
    // vs-1 and ips-1: a dateTime effective[x] must be precise to the day; a vital sign recorded
    // with only a month or year cannot claim these profiles (its date is not made up)
    if (hasCategory(o, 'imaging')) return toTheDay(o) ? `${IPS_PROFILE}Observation-results-radiology-uv-ips` : undefined;
    if (hasCategory(o, 'vital-signs')) return toTheDay(o) ? VITAL_SIGNS : undefined;
    return undefined;
  }
  const name = BY_TYPE[r.resourceType];
  return name ? IPS_PROFILE + name : undefined;
}

const absent = () => ({ extension: [{ url: DAR, valueCode: 'unknown' }] });
const present = (o: Json, key: string) => o[key] !== undefined || o[`_${key}`] !== undefined;
const anyOf = (o: Json, prefix: string) => Object.keys(o).some((k) => (k.startsWith(prefix) || k.startsWith(`_${prefix}`)) && /^[A-Z]/.test(k.slice(k.indexOf(prefix) + prefix.length)));

/** A primitive choice element (effective[x], performed[x]) the record does not know. */
function absentDateTime(o: Json, prefix: string): void {
  if (!anyOf(o, prefix)) o[`_${prefix}DateTime`] = absent();
}

/** A mandatory CodeableConcept the record does not know. */
function absentConcept(o: Json, key: string): void {
  if (!o[key]) o[key] = absent();
}

/** A HumanName list in which every name says something (IPS ips-pat-1: family, given or text). */
function names(o: Json): void {
  const said = (n: Json) => n.family !== undefined || n._family !== undefined || n.given?.length || n.text !== undefined || n._text !== undefined;
  if (!o.name?.length) o.name = [{ _text: absent() }];
  else for (const n of o.name) if (!said(n)) n._text = absent();
}

/** Changes a copy of a stored resource so it meets `profile`, stating what is unknown. */
function conform(o: Json, profile: string): void {
  switch (o.resourceType) {
    case 'Patient':
      names(o);
      if (!present(o, 'birthDate')) o._birthDate = absent();
      break;
    case 'Practitioner':
      names(o);
      break;
    case 'Organization':
      if (!present(o, 'name')) o._name = absent();
      break;
    case 'Condition':
    case 'AllergyIntolerance':
    case 'Procedure':
    case 'Medication':
      absentConcept(o, 'code');
      if (o.resourceType === 'Procedure') absentDateTime(o, 'performed');
      break;
    case 'Specimen':
      absentConcept(o, 'type');
      break;
    case 'MedicationStatement':
    case 'DiagnosticReport':
      absentDateTime(o, 'effective');
      break;
    case 'Observation':
      absentDateTime(o, 'effective');
      if (profile.includes('results-')) {
        // a result says who is responsible for it; ips-2: a value, members, components or why not
        if (!o.performer?.length) o.performer = [absent()];
        if (!anyOf(o, 'value') && !o.hasMember?.length && !o.component?.length && !o.dataAbsentReason) {
          o.dataAbsentReason = { coding: [{ system: DAR_SYSTEM, code: 'unknown', display: 'Unknown' }] };
        }
      }
      break;
  }
}

/** Declares the IPS profile on a summary's copy of a resource (ahead of any it already
 * declares) and makes the copy meet it. */
export function asIps(copy: Resource): void {
  const profile = ipsProfile(copy);
  if (!profile) return;
  conform(copy as Json, profile);
  const declared = (copy.meta?.profile ?? []).filter((p) => p !== profile);
  copy.meta = { ...copy.meta, profile: [profile, ...declared] };
}
