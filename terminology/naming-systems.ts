// NamingSystems for the identifiers met along migration routes that have no public system URI
// (domain research §2.1). R4 NamingSystem has no url or version element, so both are carried in
// the R5 cross-version extensions, which R4 tools accept; the identifier system a Patient uses is
// the uniqueId of type uri.
import type { NamingSystem } from 'fhir/r4.js';
import { CANONICAL, IG, sid } from '../src/ig/canonical.ts';

const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const XVER = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-NamingSystem';

function namingSystem(id: string, name: string, country: string | undefined, responsible: string, type: string, description: string, usage: string): NamingSystem {
  return {
    resourceType: 'NamingSystem',
    id,
    extension: [
      { url: `${XVER}.url`, valueUri: `${CANONICAL}/NamingSystem/${id}` },
      { url: `${XVER}.version`, valueString: IG.version },
    ],
    name,
    status: 'draft',
    kind: 'identifier',
    date: IG.date,
    publisher: IG.publisher,
    responsible,
    type: { coding: [{ system: V2, code: type }] },
    description,
    usage,
    ...(country ? { jurisdiction: [{ coding: [{ system: 'urn:iso:std:iso:3166', code: country }] }] } : {}),
    uniqueId: [{ type: 'uri', value: sid(id), preferred: true }],
  };
}

export const namingSystems: NamingSystem[] = [
  namingSystem('gr-amka', 'GreekAMKA', 'GR', 'IDIKA S.A. (Greek e-Government Center for Social Security Services)', 'SS',
    'Greek social security number (Αριθμός Μητρώου Κοινωνικής Ασφάλισης, AMKA): 11 digits, the first six the date of birth (DDMMYY).',
    'Permanent; issued to residents and to beneficiaries of international protection. A PAAYPA is converted to an AMKA when protection is granted: the new record links to the old with Patient.link.'),
  namingSystem('gr-paaypa', 'GreekPAAYPA', 'GR', 'Greek Asylum Service', 'SS',
    'Provisional insurance and health-care number for foreigners (Προσωρινός Αριθμός Ασφάλισης και Υγειονομικής Περίθαλψης Αλλοδαπού, PAAYPA), issued with the asylum-seeker card (Law 4939/2022 Art. 59(2)).',
    'Temporary (use=temp with a period): deactivated when the application is finally rejected and converted to an AMKA when protection is granted.'),
  namingSystem('es-cip-sns', 'SpanishCIPSNS', 'ES', 'Ministerio de Sanidad (Sistema Nacional de Salud)', 'JHN',
    'Spanish national personal identification code of the National Health System (Código de Identificación Personal del SNS, CIP-SNS), shared by all regional health services.',
    'Permanent; the regional CIP (CIP autonómico) is a separate, region-specific identifier.'),
  namingSystem('se-lma', 'SwedishLMA', 'SE', 'Migrationsverket (Swedish Migration Agency)', 'PRC',
    'Swedish LMA card number (Lagen om mottagande av asylsökande): the asylum seeker\'s case (dossier) number printed on the LMA card, 8 digits written xx-xxxxxx.',
    'Temporary (use=temp): valid while the application is processed; replaced by a personnummer or samordningsnummer when a residence permit is granted.'),
  namingSystem('unhcr-progres', 'UNHCRproGres', undefined, 'UNHCR (Office of the United Nations High Commissioner for Refugees)', 'PRC',
    'UNHCR individual registration identifier in the proGres v4 / PRIMES registration system.',
    'Humanitarian identifier; may be the only identifier of a person in a camp or in transit. Registration group identifiers are not person identifiers.'),
  namingSystem('iom-case', 'IOMCaseNumber', undefined, 'IOM (International Organization for Migration)', 'PRC',
    'IOM case or beneficiary number, as used by IOM migration health assessment and resettlement programmes (MiMOSA) and the e-PHR platform.',
    'Humanitarian identifier for migration health assessments, resettlement and assisted voluntary return.'),
];
