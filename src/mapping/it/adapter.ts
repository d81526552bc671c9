// Italy: HL7 Italia base Patient (codice fiscale; STP for foreigners without a residence permit,
// ENI for EU citizens not registered with the SSN; regional STP/ENI namespaces of Veneto).
// STP and ENI are temporary (an STP code is valid for 6 months, renewable): migfhir stores them
// with use=temp and their validity period; an STP/ENI sent without a period is kept and
// reported, since MigrantPatient requires the period and migfhir does not invent one.
// Italian extensions (ISTAT coded birth place, occupation, education) are kept by URI.
// Profile canonical from hl7-it/base (unverified against a published package).
import type { Patient } from 'fhir/r4.js';
import { nationalAdapter } from '../national/bundle.ts';
import type { NationalTable } from '../national/table.ts';

const TEMPORARY = new Set(['http://hl7.it/sid/stp', 'http://hl7.it/sid/eni', 'urn:oid:2.16.840.1.113883.2.9.2.50.4.1.1', 'urn:oid:2.16.840.1.113883.2.9.2.50.4.1.4']);

export const TABLE: NationalTable = {
  id: 'it',
  version: '1.0.0',
  country: 'IT',
  title: 'Italy: HL7 Italia Patient (codice fiscale, STP, ENI)',
  system: 'HL7 Italia FHIR base profiles (FSE 2.0 / EDS)',
  profiles: { Patient: 'http://hl7.it/fhir/base/StructureDefinition/patient-it-base' },
  identifiers: [
    { id: 'it-cf', check: 'codiceFiscale' },
    { id: 'it-stp', check: 'stp' },
    { id: 'it-eni', check: 'eni' },
    { id: 'it-stp-veneto' },
    { id: 'it-eni-veneto' },
  ],
  keep: [
    'http://hl7.it/fhir/StructureDefinition/patient-codeableBirthPlace',
    'http://hl7.it/fhir/StructureDefinition/patient-occupation-it',
    'http://hl7.it/fhir/StructureDefinition/patient-qualification-it',
  ],
};

export const italy = nationalAdapter({
  table: TABLE,
  patientToFhir(_national: Patient, out: Patient, path, warnings) {
    out.identifier?.forEach((id, i) => {
      if (id.system && TEMPORARY.has(id.system) && !id.period?.start && !id.period?.end) {
        warnings.push({ location: `${path}.identifier[${i}].period`, message: 'STP/ENI without its validity period: kept, but MigrantPatient requires the period of a temporary identifier' });
      }
    });
  },
});
