// Greece: AMKA (social security number) and PAAYPA (the temporary insurance and health-care
// number the Asylum Service issues to applicants, converted to an AMKA when protection is
// granted). The AMKA is written as HL7 Hellas's base IG writes it (profile.json: its OID, use
// official, type NIIP); PAAYPA is not in that IG, so it keeps migfhir's NamingSystem. The
// national form is the one Greek registries imply: a person
// record per number, the AMKA record naming the PAAYPA it replaces (Patient.link replaces with
// a logical reference by identifier).
// migfhir keeps ONE person: the PAAYPA becomes a temporary identifier of the AMKA patient whose
// period ends when the AMKA was issued, so the conditional update keyed on both numbers finds
// the record the PAAYPA was used for and never creates a second one. Should the store hold
// two unlinked records for the numbers, the import is refused (412) until they are merged
// (Patient/$merge). Outbound, the PAAYPA is written back as the AMKA record's link.
import type { Identifier, Patient, PatientLink } from 'fhir/r4.js';
import { nationalAdapter } from '../national/bundle.ts';
import { IdentifierTable, systemOf } from '../national/patient.ts';
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';

export const AMKA = systemOf('gr-amka');
export const PAAYPA = systemOf('gr-paaypa');

/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');

const ids = new IdentifierTable(TABLE.identifiers);
/** the AMKA's system in the Greek profile (HL7 Hellas: an OID), on the exported side */
const NATIONAL_AMKA = ids.nationalSystem(AMKA);

export const greece = nationalAdapter({
  table: TABLE,
  patientToFhir(national: Patient, out: Patient, path, warnings) {
    const links: PatientLink[] = [];
    (national.link ?? []).forEach((l, i) => {
      const other = l.other?.identifier;
      if (l.type !== 'replaces' || l.other?.reference || other?.system !== PAAYPA || !other.value) {
        links.push(l);
        return;
      }
      const amka = out.identifier?.find((x) => x.system === AMKA);
      const paaypa = ids.toFhir(other, `${path}.link[${i}].other.identifier`);
      const end = paaypa.period?.end ?? amka?.period?.start;
      const period = { ...(paaypa.period ?? {}), ...(end ? { end } : {}) };
      if (!period.start && !period.end) warnings.push({ location: `${path}.link[${i}]`, message: 'the PAAYPA replaced by the AMKA has no period and the AMKA no start date: MigrantPatient requires the period of a temporary identifier' });
      if (!out.identifier?.some((x) => x.system === PAAYPA && x.value === paaypa.value)) out.identifier = [...(out.identifier ?? []), { ...paaypa, use: 'temp', ...(period.start || period.end ? { period } : {}) }];
    });
    if (links.length) out.link = links;
    else delete out.link;
  },
  patientFromFhir(_stored: Patient, out: Patient) {
    const list = out.identifier ?? [];
    if (!list.some((i) => i.system === NATIONAL_AMKA)) return;
    const replaced: Identifier[] = list.filter((i) => i.system === PAAYPA);
    if (!replaced.length) return;
    out.identifier = list.filter((i) => i.system !== PAAYPA);
    out.link = [...(out.link ?? []), ...replaced.map((identifier) => ({ type: 'replaces' as const, other: { type: 'Patient', identifier } }))];
  },
});
