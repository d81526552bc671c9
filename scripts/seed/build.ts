// Builds src/cli/demo-population.json, the demo population `migfhir seed` loads: people on the
// move as the server's own doors receive them — national FHIR imports from Greece (PAAYPA, then
// the AMKA that replaces it), Italy (STP), Sweden (samordningsnummer and LMA card), Poland (PESEL
// with UKR status), Germany (ISiK); HL7 v2 ADT from a Greek reception centre (an unaccompanied
// minor with a guardian) and a German clinic; one full clinical record (problems, allergy,
// medications, immunizations, results, a pregnancy, a cross-border referral) for the
// International Patient Summary; PHQ-9 and GAD-7 screenings scored with $score. Built from the
// test fixtures so that the demo is what the tests prove. Run again after changing them:
//   node scripts/seed/build.ts
import { writeFileSync } from 'node:fs';
import type { Resource } from 'fhir/r4.js';
import { clinicalRecord, recordTransaction } from '../clinical-record.ts';
import { FIXTURES as NATIONAL } from '../../test/mapping/national/fixtures.ts';
import { FIXTURES as HL7V2 } from '../../test/mapping/hl7v2/fixtures.ts';

interface Step {
  title: string;
  method: 'POST' | 'PUT';
  url: string;
  /** a FHIR JSON body, or HL7 v2 ER7 text (segments separated by \r) */
  body?: unknown;
  er7?: string;
}

const LOINC = 'http://loinc.org';
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9'];
/** A screening stored by id (PUT), then scored with $score, which stores its Observation once:
 * loading the population again finds both unchanged. */
const screening = (id: string, questionnaire: 'phq-9' | 'gad-7', patient: string, scores: number[], authored: string): Step[] => [
  {
    title: `${questionnaire.toUpperCase()} screening of Patient/${patient}`,
    method: 'PUT',
    url: `QuestionnaireResponse/${id}`,
    body: {
      resourceType: 'QuestionnaireResponse', id, status: 'completed', questionnaire: `https://migfhir.org/fhir/Questionnaire/${questionnaire}`,
      subject: { reference: `Patient/${patient}` }, authored,
      item: scores.map((s, i) => ({ linkId: `${questionnaire.replace('-', '')}-${i + 1}`, answer: [{ valueCoding: { system: LOINC, code: ANSWERS[s] } }] })),
    },
  },
  { title: `… scored with $score (the score stored as an Observation)`, method: 'POST', url: `QuestionnaireResponse/${id}/$score?persist=true` },
];

const steps: Step[] = [];
const national = (adapter: string, names: string[]) => {
  for (const f of NATIONAL.filter((x) => x.adapter === adapter && names.some((n) => x.name.startsWith(n)))) {
    steps.push({ title: `$import-national ${adapter}: ${f.name}`, method: 'POST', url: `$import-national?adapter=${adapter}`, body: f.body });
  }
};
national('gr', ['GR asylum applicant', 'GR AMKA granted']);
national('it', ['IT STP foreigner']);
national('se', ['SE samordningsnummer']);
national('pl', ['PL PESEL with UKR']);
national('de', ['DE ISiK patient']);
for (const name of ['A04 unaccompanied minor', 'A01 Syrian patient in Arabic', 'A04 German clinic']) {
  const f = HL7V2.find((x) => x.name.startsWith(name));
  if (!f) throw new Error(`no HL7 v2 fixture '${name}'`);
  steps.push({ title: `HL7 v2 ${f.name}`, method: 'POST', url: '$hl7v2-ingest', er7: f.segments.join('\r') });
}
const record: Resource[] = clinicalRecord('demo-amal', 'all');
steps.push({ title: 'A clinical record for the International Patient Summary (Patient/demo-amal)', method: 'POST', url: '', body: recordTransaction(record) });
steps.push(...screening('demo-phq9-amal', 'phq-9', 'demo-amal', [2, 2, 1, 2, 1, 1, 2, 1, 0], '2026-03-02T10:15:00Z'));
steps.push(...screening('demo-gad7-amal', 'gad-7', 'demo-amal', [2, 2, 2, 1, 1, 1, 2], '2026-03-02T10:25:00Z'));

const out = new URL('../../src/cli/demo-population.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ $comment: 'Built by scripts/seed/build.ts; loaded by migfhir seed. Every person is invented.', steps }, null, 1)}\n`);
process.stdout.write(`${steps.length} steps written to ${out.pathname}\n`);
