// Sweden: personnummer and samordningsnummer (co-ordination number: birth day + 60, for people
// not or not yet registered, e.g. asylum seekers who work), reservnummer (Region Stockholm) and
// the nationellt reservnummer and the LMA card number of asylum seekers, with the systems of HL7
// Sweden's SEBasePatient (profile.json; the older RIV-TA OIDs are still read). Numbers in the
// 12-digit form (YYYYMMDDNNNC; separators are removed), checked by the Luhn digit and the birth
// date they begin with. A personnummer with day + 60 is refused rather than silently re-filed,
// as it means the sender mixed up the two registers. SEBasePatient allows one name: the
// official one is exported (national/names.ts).
import { nationalAdapter } from '../national/bundle.ts';
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';

/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');

export const sweden = nationalAdapter({ table: TABLE });
