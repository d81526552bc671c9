// PID and NK1 ↔ Patient, both directions side by side so that every mapped field visibly
// round-trips. Fields that are sent but not mapped are reported as warnings (named by
// segment-field), never dropped silently; HL7's explicit null ("") marks an element to delete.
import type { Address, CodeableConcept, ContactPoint, Extension, HumanName, Identifier, Patient, PatientContact } from 'fhir/r4.js';
import { comp, NULL, type FieldValue, type Segment } from './er7.ts';
import { nk1ToRelatedPerson, RELATED_PERSON_FIELDS, type MappedRelatedPerson } from './related-person.ts';
import type { Hl7Warning } from './errors.ts';
import {
  addressToXad, ceToCodeableConcept, codeableConceptToCe, birthDateOf, codeExtension, languageConcept, contactPointToXtn, cxToIdentifier, droppedIfInvalid, dtmToDate, dtmToDateTime, localize, tableConcept, type FieldContext,
  humanNameToXpn, identifierToCx, toDtm, xadToAddress, xpnToHumanName, xtnToContactPoint,
} from './datatypes.ts';
import { BIRTH_PLACE_TYPES, EXT, isTableSystem, ISO3166, MARITAL, MARITAL_V3, ROLE_CODE, SEX, toFhirCode, toV2Code, V2 } from './tables.ts';

/** PID fields this adapter maps; 1 (set id), 33 and 34 (last update) carry no patient data. */
const PID_MAPPED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 14, 15, 16, 23, 24, 25, 26, 28, 29, 30, 33, 34]);
const NK1_MAPPED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15, 30, 31, 32]);
/** …and with the RelatedPerson an NK1 naming a person gives: birth date, language, identifiers. */
const NK1_WITH_PERSON = new Set([...NK1_MAPPED, ...RELATED_PERSON_FIELDS]);

export interface PatientResult {
  patient: Patient;
  /** elements the message explicitly deleted ("") */
  removed: string[];
  /** the persons NK1 segments name, as RelatedPerson (src/mapping/hl7v2/related-person.ts) */
  relatedPersons: MappedRelatedPerson[];
}

export function unmapped(seg: Segment, mapped: Set<number>, warnings: Hl7Warning[]): void {
  for (let n = 1; n <= seg.size; n++) {
    if (!mapped.has(n) && seg.has(n)) warnings.push({ location: `${seg.name}-${n}`, message: `${seg.name}-${n} is not mapped and was not stored` });
  }
}

/** PID-3 (with PID-2 and PID-4 of older feeds) → identifiers, one per system and value. */
export function pidIdentifiers(pid: Segment, facility: string, warnings?: Hl7Warning[]): Identifier[] {
  const out: Identifier[] = [];
  for (const n of [3, 2, 4]) {
    pid.field(n).forEach((rep) => {
      const id = cxToIdentifier(rep, `PID-${n}`, facility, warnings);
      if (id && !out.some((o) => o.system === id.system && o.value === id.value)) out.push(id);
    });
  }
  return out;
}

function country(cc: CodeableConcept | undefined): CodeableConcept | undefined {
  const c = cc?.coding?.[0];
  if (c && !c.system) c.system = ISO3166;
  return cc;
}

export function pidToPatient(pid: Segment, nk1s: Segment[], facility: string, offset: string | undefined, warnings: Hl7Warning[]): PatientResult {
  const p: Patient = { resourceType: 'Patient' };
  const removed: string[] = [];
  const nulled = (n: number) => pid.raw[n] === NULL;
  const extension: Extension[] = [];
  p.identifier = pidIdentifiers(pid, facility, warnings);
  const local = { sender: facility, warnings };
  const names = pid.field(5).map((r) => xpnToHumanName(r, 'PID-5')).filter((n): n is HumanName => !!n);
  if (names.length) p.name = names;
  else if (nulled(5)) removed.push('name');
  const maiden = pid.get(6);
  if (maiden && maiden !== NULL) extension.push({ url: EXT.mothersMaidenName, valueString: maiden });
  const dob = pid.get(7);
  if (dob && dob !== NULL) {
    const birthDate = birthDateOf(dob, 'PID-7', warnings);
    if (birthDate) p.birthDate = birthDate;
    const time = birthDate && /^\d{10}/.test(dob) ? droppedIfInvalid(warnings, () => dtmToDateTime(dob, 'PID-7', offset)) : undefined;
    if (time) p._birthDate = { extension: [{ url: EXT.birthTime, valueDateTime: time }] };
  } else if (nulled(7)) removed.push('birthDate');
  const sex = pid.get(8);
  if (sex && sex !== NULL) {
    const gender = toFhirCode(SEX, sex);
    if (gender) p.gender = gender as Patient['gender'];
    else warnings.push({ location: 'PID-8', message: `PID-8: sex '${sex.slice(0, 5)}' is not in table 0001 and was not stored` });
  } else if (nulled(8)) removed.push('gender');
  const addresses = [];
  let birthPlace: Address | undefined;
  for (const rep of pid.field(11)) {
    const a = xadToAddress(rep, 'PID-11');
    if (!a) continue;
    if (BIRTH_PLACE_TYPES.has(comp(rep, 7))) {
      delete a.use;
      birthPlace = a;
    } else addresses.push(a);
  }
  if (addresses.length) p.address = addresses;
  else if (nulled(11)) removed.push('address');
  const birthPlaceText = pid.get(23);
  if (birthPlaceText && birthPlaceText !== NULL) birthPlace = { ...(birthPlace ?? {}), text: birthPlaceText };
  if (birthPlace) extension.push({ url: EXT.birthPlace, valueAddress: birthPlace });
  const telecom = [
    ...pid.field(13).map((r) => xtnToContactPoint(r, 'home')),
    ...pid.field(14).map((r) => xtnToContactPoint(r, 'work')),
  ].filter((c): c is ContactPoint => !!c);
  if (telecom.length) p.telecom = telecom;
  else if (nulled(13) || nulled(14)) removed.push('telecom');
  const lang = languageConcept(pid.field(15)[0]);
  if (lang) p.communication = [{ language: lang, preferred: true }];
  const marital = ceToCodeableConcept(pid.field(16)[0]);
  if (marital?.coding?.[0] && !marital.coding[0].system) marital.coding[0].system = MARITAL_V3.has(marital.coding[0].code!) ? MARITAL : V2('0002');
  if (marital?.coding?.[0]) localize(marital.coding[0], '0002', 'PID-16', local);
  if (marital) p.maritalStatus = marital;
  const multiple = pid.get(24);
  const order = pid.get(25);
  if (order && /^\d+$/.test(order)) p.multipleBirthInteger = Number(order);
  else if (multiple === 'Y' || multiple === 'N') p.multipleBirthBoolean = multiple === 'Y';
  for (const rep of pid.field(26)) {
    const cc = country(ceToCodeableConcept(rep));
    if (cc) extension.push(codeExtension(EXT.citizenship, cc));
  }
  const nationality = country(ceToCodeableConcept(pid.field(28)[0]));
  if (nationality) extension.push(codeExtension(EXT.nationality, nationality));
  const death = pid.get(29);
  const deceased = death && death !== NULL ? droppedIfInvalid(warnings, () => dtmToDateTime(death, 'PID-29', offset)) : undefined;
  if (deceased) p.deceasedDateTime = deceased;
  else if (pid.get(30) === 'Y' || pid.get(30) === 'N') p.deceasedBoolean = pid.get(30) === 'Y';
  if (extension.length) p.extension = extension;
  unmapped(pid, PID_MAPPED, warnings);
  const relatedPersons: MappedRelatedPerson[] = [];
  if (nk1s.length) {
    p.contact = nk1s.map((nk1) => {
      const contact = nk1ToContact(nk1, local);
      const person = nk1ToRelatedPerson(nk1, contact, local);
      if (person) relatedPersons.push(person);
      unmapped(nk1, person ? NK1_WITH_PERSON : NK1_MAPPED, local.warnings);
      return contact;
    });
  }
  return { patient: p, removed, relatedPersons };
}

/**
 * NK1: 2 name, 3 relationship (0063), 4 address, 5/6 phones, 7 contact role (0131), 8/9 period,
 * 13 organisation (XON-1 name; for an unaccompanied minor the responsible body is the key fact),
 * 15 sex, and 30/31/32 the contact person at that organisation (name, phone, address), used when
 * NK1-2/4 leave them out.
 */
function nk1ToContact(nk1: Segment, local: FieldContext): PatientContact {
  const c: PatientContact = {};
  const relationship: CodeableConcept[] = [];
  const role = tableConcept(nk1.field(7)[0], '0131', 'NK1-7', local);
  if (role) relationship.push(role);
  const rel = tableConcept(nk1.field(3)[0], '0063', 'NK1-3', local);
  if (rel) {
    // a guardian is also written in v3 RoleCode, which FHIR profiles for minors bind to
    if (rel.coding?.[0]?.code === 'GRD' && rel.coding[0].system === V2('0063')) rel.coding.push({ system: ROLE_CODE, code: 'GUARD', display: 'guardian' });
    relationship.push(rel);
  }
  if (relationship.length) c.relationship = relationship;
  const name = nk1.field(2).map((r) => xpnToHumanName(r, 'NK1-2')).find(Boolean) ?? nk1.field(30).map((r) => xpnToHumanName(r, 'NK1-30')).find(Boolean);
  if (name) c.name = name;
  const telecom = [
    ...nk1.field(5).map((r) => xtnToContactPoint(r, 'home')), ...nk1.field(6).map((r) => xtnToContactPoint(r, 'work')), ...nk1.field(31).map((r) => xtnToContactPoint(r, 'work')),
  ].filter((x): x is ContactPoint => !!x);
  if (telecom.length) c.telecom = telecom;
  const address = nk1.field(4).map((r) => xadToAddress(r, 'NK1-4')).find(Boolean) ?? nk1.field(32).map((r) => xadToAddress(r, 'NK1-32')).find(Boolean);
  if (address) c.address = address;
  const organisation = comp(nk1.field(13)[0], 1);
  if (organisation) c.organization = { display: organisation };
  const gender = toFhirCode(SEX, nk1.get(15));
  if (gender) c.gender = gender as PatientContact['gender'];
  const start = droppedIfInvalid(local.warnings, () => dtmToDate(nk1.get(8), 'NK1-8'));
  const end = droppedIfInvalid(local.warnings, () => dtmToDate(nk1.get(9), 'NK1-9'));
  if (start || end) c.period = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  return c;
}

// ---- outbound -----------------------------------------------------------------------------

function ext(p: Patient, url: string): Extension[] {
  return (p.extension ?? []).filter((e) => e.url === url);
}
function extCode(e: Extension): CodeableConcept | undefined {
  return e.extension?.find((x) => x.url === 'code')?.valueCodeableConcept;
}

/** PID fields (index = field number) for a Patient. */
export function patientToPid(p: Patient): FieldValue[] {
  const f: FieldValue[] = [];
  f[1] = '1';
  f[3] = { reps: (p.identifier ?? []).filter((i) => i.value).map(identifierToCx) };
  f[5] = { reps: (p.name ?? []).map(humanNameToXpn) };
  f[6] = ext(p, EXT.mothersMaidenName)[0]?.valueString;
  const birthTime = p._birthDate?.extension?.find((e) => e.url === EXT.birthTime)?.valueDateTime;
  f[7] = birthTime ? toDtm(birthTime) : toDtm(p.birthDate);
  f[8] = p.gender ? toV2Code(SEX, p.gender) : undefined;
  const birthPlace = ext(p, EXT.birthPlace)[0]?.valueAddress;
  const birthXad = birthPlace && (birthPlace.city || birthPlace.country || birthPlace.line || birthPlace.state || birthPlace.postalCode || birthPlace.district) ? [addressToXad(birthPlace, 'N')] : [];
  f[11] = { reps: [...(p.address ?? []).map((a) => addressToXad(a)), ...birthXad] };
  const telecom = p.telecom ?? [];
  f[13] = { reps: telecom.filter((t) => t.use !== 'work').map(contactPointToXtn) };
  f[14] = { reps: telecom.filter((t) => t.use === 'work').map(contactPointToXtn) };
  const lang = (p.communication ?? []).find((c) => c.preferred) ?? p.communication?.[0];
  f[15] = codeableConceptToCe(lang?.language);
  f[16] = codeableConceptToCe(p.maritalStatus);
  f[23] = birthPlace?.text;
  if (p.multipleBirthInteger !== undefined) {
    f[24] = 'Y';
    f[25] = String(p.multipleBirthInteger);
  } else if (p.multipleBirthBoolean !== undefined) f[24] = p.multipleBirthBoolean ? 'Y' : 'N';
  f[26] = { reps: ext(p, EXT.citizenship).map((e) => codeableConceptToCe(extCode(e))) };
  f[28] = codeableConceptToCe(extCode(ext(p, EXT.nationality)[0] ?? { url: '' }));
  if (p.deceasedDateTime) {
    f[29] = toDtm(p.deceasedDateTime);
    f[30] = 'Y';
  } else if (p.deceasedBoolean !== undefined) f[30] = p.deceasedBoolean ? 'Y' : 'N';
  return f;
}

/** NK1 fields for each contact. */
export function contactsToNk1(p: Patient): FieldValue[][] {
  return (p.contact ?? []).map((c, i) => {
    const f: FieldValue[] = [];
    // HL7's values or the sender's local codes of that table (both go back in the same field)
    const coded = (table: string) => c.relationship?.find((r) => isTableSystem(r.coding?.[0]?.system, table));
    f[1] = String(i + 1);
    f[2] = c.name ? humanNameToXpn(c.name) : undefined;
    f[3] = codeableConceptToCe(coded('0063'));
    f[4] = c.address ? addressToXad(c.address) : undefined;
    f[5] = { reps: (c.telecom ?? []).filter((t) => t.use !== 'work').map(contactPointToXtn) };
    f[6] = { reps: (c.telecom ?? []).filter((t) => t.use === 'work').map(contactPointToXtn) };
    f[7] = codeableConceptToCe(coded('0131'));
    f[8] = toDtm(c.period?.start);
    f[9] = toDtm(c.period?.end);
    f[13] = c.organization?.display;
    f[15] = c.gender ? toV2Code(SEX, c.gender) : undefined;
    return f;
  });
}
