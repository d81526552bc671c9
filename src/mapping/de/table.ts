// Germany: gematik ISiK / KBV profiles. Code systems are referenced by URI only (KBV and HL7
// Deutschland terminology is not copied). Sources: shared/domain.md §2.1, §2.2.
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';

export const EXT_DE = {
  personengruppe: 'http://fhir.de/StructureDefinition/gkv/besondere-personengruppe',
  versichertenart: 'http://fhir.de/StructureDefinition/gkv/versichertenart',
  wop: 'http://fhir.de/StructureDefinition/gkv/wop',
  genderAmtlich: 'http://fhir.de/StructureDefinition/gender-amtlich-de',
  namenszusatz: 'http://fhir.de/StructureDefinition/humanname-namenszusatz',
  ownName: 'http://hl7.org/fhir/StructureDefinition/humanname-own-name',
  streetName: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName',
  houseNumber: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber',
} as const;
/** Institutionskennzeichen (IK) of the statutory health insurer */
export const IKNR = 'http://fhir.de/sid/arge-ik/iknr';
/** migfhir's key of a statutory insurance relationship: the insurer's IK and the insured's KVNR */
export const GKV_COVERAGE_KEY = 'https://migfhir.org/fhir/sid/de-gkv-coverage';

/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');
