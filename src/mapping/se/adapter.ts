// Sweden: personnummer and samordningsnummer (co-ordination number: birth day + 60, for people
// not or not yet registered, e.g. asylum seekers who work), reservnummer (Region Stockholm) and
// the LMA card number of asylum seekers. RIV-TA OIDs as systems; numbers in the 12-digit form
// (YYYYMMDDNNNC; separators are removed), checked by the Luhn digit and the birth date they
// begin with. A personnummer with day + 60 is refused rather than silently re-filed, as it
// means the sender mixed up the two registers. No national Patient profile is claimed: the
// Swedish common profiles publish none we could verify.
import { nationalAdapter } from '../national/bundle.ts';
import type { NationalTable } from '../national/table.ts';

export const TABLE: NationalTable = {
  id: 'se',
  version: '1.0.0',
  country: 'SE',
  title: 'Sweden: Patient with personnummer, samordningsnummer, reservnummer, LMA',
  system: 'Inera / RIV-TA person identifiers (Swedish FHIR)',
  profiles: {},
  identifiers: [
    { id: 'se-personnummer', check: 'personnummer', normalize: 'digits' },
    { id: 'se-samordningsnummer', check: 'samordningsnummer', normalize: 'digits' },
    { id: 'se-reservnummer' },
    { id: 'se-lma' },
  ],
};

export const sweden = nationalAdapter({ table: TABLE });
