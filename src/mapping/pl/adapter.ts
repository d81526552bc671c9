// Poland: HL7 Poland base Patient (pl-base-patient: name 1..1, see national/names.ts). PESEL with its check digit and
// birth date. Ukrainian refugees registered under the special act of 12 March 2022 hold a
// PESEL with status UKR, which gives them access to care: no Polish FHIR element carries that
// status, so the national side marks the PESEL with extension PESEL_STATUS (valueCode UKR) and
// migfhir records it as what it is, a migration status (temporary-protection, granted by PL,
// known from the PESEL). Outbound, a current temporary protection granted by Poland marks the
// PESEL again. The unknown-person convention differs: Poland writes name use=anonymous, text
// "NN" with a data-absent-reason, migfhir a name with only the data-absent-reason.
import type { Extension, HumanName, Identifier, Patient } from 'fhir/r4.js';
import { cs, sd } from '../../ig/canonical.ts';
import { nationalAdapter } from '../national/bundle.ts';
import { DATA_ABSENT, systemOf } from '../national/patient.ts';
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';

export const PESEL = systemOf('pl-pesel');
export const PESEL_STATUS = 'https://migfhir.org/fhir/StructureDefinition/pesel-status';
const STATUS = sd('migration-status');
const ISO3166 = 'urn:iso:std:iso:3166';

/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');

const part = (e: Extension, url: string) => e.extension?.find((x) => x.url === url);

function isUkrStatus(e: Extension): boolean {
  if (e.url !== STATUS) return false;
  const status = part(e, 'status')?.valueCodeableConcept?.coding?.some((c) => c.system === cs('migration-status') && c.code === 'temporary-protection');
  const country = part(e, 'grantingCountry')?.valueCodeableConcept?.coding?.some((c) => c.code === 'PL');
  return !!status && !!country && !part(e, 'period')?.valuePeriod?.end;
}

function ukrStatus(pesel: Identifier): Extension {
  const { extension: _e, ...doc } = pesel;
  void _e;
  return {
    url: STATUS,
    extension: [
      { url: 'status', valueCodeableConcept: { coding: [{ system: cs('migration-status'), code: 'temporary-protection' }] } },
      ...(pesel.period?.start ? [{ url: 'period', valuePeriod: { start: pesel.period.start } }] : []),
      { url: 'grantingCountry', valueCodeableConcept: { coding: [{ system: ISO3166, code: 'PL' }] } },
      { url: 'sourceDocument', valueIdentifier: doc },
    ],
  };
}

const isNN = (n: HumanName) => n.use === 'anonymous' && n.text === 'NN' && !n.family && !n.given;

export const poland = nationalAdapter({
  table: TABLE,
  patientToFhir(_national, out: Patient) {
    out.name = out.name?.map((n) => (isNN(n) ? { use: 'anonymous', extension: n.extension?.length ? n.extension : [{ url: DATA_ABSENT, valueCode: 'unknown' }] } : n));
    out.identifier = out.identifier?.map((id) => {
      const marked = id.system === PESEL && id.extension?.some((e) => e.url === PESEL_STATUS && e.valueCode === 'UKR');
      if (!marked) return id;
      const rest = id.extension!.filter((e) => e.url !== PESEL_STATUS);
      const plain: Identifier = { ...id, ...(rest.length ? { extension: rest } : {}) };
      if (!rest.length) delete plain.extension;
      out.extension = [...(out.extension ?? []), ukrStatus(plain)];
      return plain;
    });
  },
  patientFromFhir(stored: Patient, out: Patient) {
    const unknown = (stored.name ?? []).find((n) => !n.family && !n.given && !n.text && n.extension?.some((e) => e.url === DATA_ABSENT));
    if (unknown && !out.name?.some((n) => n.family || n.given)) out.name = [{ use: 'anonymous', text: 'NN', extension: unknown.extension }];
    // PLBasePatient allows multipleBirthInteger only
    delete out.multipleBirthBoolean;
    if ((stored.extension ?? []).some(isUkrStatus)) {
      out.identifier = out.identifier?.map((id) => (id.system === PESEL ? { ...id, extension: [...(id.extension ?? []), { url: PESEL_STATUS, valueCode: 'UKR' }] } : id));
    }
  },
});
