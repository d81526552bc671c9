// Italy: HL7 Italia base Patient (codice fiscale; STP for foreigners without a residence permit,
// ENI for EU citizens not registered with the SSN; regional STP/ENI namespaces of Veneto).
// STP and ENI are temporary (an STP code is valid for 6 months, renewable): migfhir stores them
// with use=temp and their validity period; an STP/ENI sent without a period is kept and
// reported, since MigrantPatient requires the period and migfhir does not invent one.
// Italian extensions (ISTAT coded birth place, occupation, education) are kept by URI.
// STP and ENI are typed by it-identifier-type#STP / #ENI, as the published slices and examples
// (hl7-it/base) write them; systems and profile URL: profile.json.
import type { Patient } from 'fhir/r4.js';
import { nationalAdapter } from '../national/bundle.ts';
import { isTemporary, systemOf } from '../national/patient.ts';
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';


/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');

const TEMPORARY = new Set(TABLE.identifiers.filter((r) => isTemporary(r.id)).map((r) => systemOf(r.id)));

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
