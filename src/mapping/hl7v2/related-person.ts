// NK1 → RelatedPerson, as HL7's V2-to-FHIR IG maps the segment (NK1[RelatedPerson]), beside the
// Patient.contact that carries the same person in the patient's own record. A RelatedPerson can
// be referenced — a guardian signing a Consent for an unaccompanied minor, answering a
// questionnaire for a child, an interpreter's counterpart — and it holds what Patient.contact
// cannot: the person's identifiers (NK1-33), birth date (NK1-16) and language (NK1-20, for
// deciding on an interpreter). Only an NK1 that names a person (NK1-2, or NK1-30 the contact
// person at the organisation of NK1-13) gives one; an organisation alone stays a contact.
//
// Keys, so that a message sent again (A08, A31) updates the person instead of adding one:
// NK1-33 when the sender gives identifiers; otherwise the NK1 set id (NK1-1) under the sender,
// found together with the patient by a chained condition (`patient.identifier`), since a set id
// identifies a contact only within one patient's record.
import type { Identifier, PatientContact, RelatedPerson } from 'fhir/r4.js';
import type { Segment } from './er7.ts';
import { birthDateOf, cxToIdentifier, languageConcept, type FieldContext } from './datatypes.ts';

/** NK1 fields only the RelatedPerson carries. */
export const RELATED_PERSON_FIELDS = [16, 20, 33];

/** System of the sender-scoped key of an NK1 without identifiers: `<sending facility>#<NK1-1>`. */
export const NK1_KEY_SYSTEM = 'https://migfhir.org/fhir/sid/hl7v2-nk1';

export interface MappedRelatedPerson {
  resource: RelatedPerson;
  /** the search that finds it again, relative to RelatedPerson */
  criteria: { identifiers: Identifier[]; chained: boolean };
}

/** The RelatedPerson of an NK1 whose contact names a person; `patient` is set by the caller. */
export function nk1ToRelatedPerson(nk1: Segment, contact: PatientContact, local: FieldContext): MappedRelatedPerson | undefined {
  if (!contact.name) return undefined;
  const identifiers = nk1.field(33).map((rep) => cxToIdentifier(rep, 'NK1-33', local.sender, local.warnings)).filter((i): i is Identifier => !!i);
  const setId = nk1.get(1);
  const chained = identifiers.length === 0;
  if (chained) {
    if (!setId) {
      local.warnings.push({ location: 'NK1-1', message: 'NK1 without a set id or identifiers: kept as a contact of the patient, no RelatedPerson made' });
      return undefined;
    }
    identifiers.push({ system: NK1_KEY_SYSTEM, value: `${local.sender}#${setId}` });
  }
  const person: RelatedPerson = { resourceType: 'RelatedPerson', identifier: identifiers, active: true, patient: {} };
  if (contact.relationship) person.relationship = contact.relationship;
  person.name = [contact.name];
  if (contact.telecom) person.telecom = contact.telecom;
  if (contact.gender) person.gender = contact.gender;
  const birthDate = birthDateOf(nk1.get(16), 'NK1-16', local.warnings);
  if (birthDate) person.birthDate = birthDate;
  if (contact.address) person.address = [contact.address];
  if (contact.period) person.period = contact.period;
  const language = languageConcept(nk1.field(20)[0]);
  if (language) person.communication = [{ language, preferred: true }];
  return { resource: person, criteria: { identifiers, chained } };
}
