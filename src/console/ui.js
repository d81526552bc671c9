// Shared pieces of the pages: htm bound to preact (text is always escaped: names and values
// come from any source, none is ever inserted as HTML) and FHIR datatypes as readable text.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

export const MIGRATION_SCOPE = 'migfhir/migration-data.read';

export function nameText(name) {
  if (!name) return '';
  if (name.text) return name.text;
  return [...(name.prefix ?? []), ...(name.given ?? []), name.family, ...(name.suffix ?? [])].filter(Boolean).join(' ');
}

/** A person's name in whatever script it is written: isolated, its direction from its text
 * (Arabic, Persian, Urdu read right to left inside a left-to-right page). */
export function Name({ name }) {
  return html`<bdi dir="auto" class="person-name">${nameText(name)}</bdi>`;
}

export function codeText(cc) {
  if (!cc) return '';
  if (cc.text) return cc.text;
  const c = cc.coding?.find((x) => x.display) ?? cc.coding?.[0];
  return c ? c.display ?? c.code ?? '' : '';
}

let regions;
/** A country from its ISO 3166 code (alpha-2; alpha-3 shown as it is), or the text given. */
export function countryText(value) {
  if (!value) return '';
  if (/^[A-Z]{2}$/.test(value)) {
    try {
      regions ??= new Intl.DisplayNames(['en'], { type: 'region' });
      return regions.of(value) ?? value;
    } catch {
      return value;
    }
  }
  return value;
}

export function quantityText(q) {
  if (!q) return '';
  return [q.comparator, q.value, q.unit ?? q.code].filter((x) => x !== undefined && x !== '').join(' ');
}

/** The value of an Observation (or of one component), as text. */
export function valueText(o) {
  if (o.valueQuantity) return quantityText(o.valueQuantity);
  if (o.valueCodeableConcept) return codeText(o.valueCodeableConcept);
  for (const k of ['valueString', 'valueInteger', 'valueBoolean', 'valueDateTime', 'valueDate', 'valueTime']) if (o[k] !== undefined) return String(o[k]);
  if (o.valuePeriod) return periodText(o.valuePeriod);
  if (o.component?.length) return o.component.map((c) => `${codeText(c.code)} ${valueText(c)}`).join(', ');
  if (o.dataAbsentReason) return `absent: ${codeText(o.dataAbsentReason)}`;
  return '';
}

export function dateText(value) {
  return typeof value === 'string' ? value.replace('T', ' ').replace(/:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/, '') : '';
}

export function periodText(p) {
  if (!p) return '';
  return [dateText(p.start), dateText(p.end)].filter(Boolean).join(' – ');
}

/** Identifier systems named for a reader; others shown by their URI. */
const SYSTEMS = [
  [/gr-amka$/, 'AMKA (Greece)'],
  [/gr-paaypa$/, 'PAAYPA (Greece, asylum applicant)'],
  [/sid\/stp$/, 'STP (Italy, temporarily present foreigner)'],
  [/se-lma$/, 'LMA card (Sweden, asylum seeker)'],
  [/1\.2\.752\.129\.2\.1\.3\.3$/, 'samordningsnummer (Sweden)'],
  [/2\.16\.840\.1\.113883\.3\.4424\.1\.1\.616$/, 'PESEL (Poland)'],
  [/kvid-10$/, 'KVNR (Germany)'],
  [/passport\/([A-Z]{3})$/, 'passport'],
  [/unhcr/i, 'UNHCR'],
  [/iom/i, 'IOM'],
];

export function systemText(system) {
  if (!system) return 'no system';
  for (const [re, label] of SYSTEMS) {
    const m = re.exec(system);
    if (m) return m[1] ? `${label} (${m[1]})` : label;
  }
  return system;
}

export function extensionOf(resource, url) {
  return resource?.extension?.find((e) => e.url === url);
}

/** One line for any resource of a record or a summary; `resolve` finds a referenced resource
 * (a MedicationStatement's Medication) where the caller has it. */
export function summaryLine(r, resolve = () => undefined) {
  switch (r.resourceType) {
    case 'Condition':
      return [codeText(r.code), codeText(r.clinicalStatus), dateText(r.onsetDateTime)].filter(Boolean).join(' · ');
    case 'AllergyIntolerance':
      return [codeText(r.code), r.criticality && `criticality ${r.criticality}`, codeText(r.clinicalStatus)].filter(Boolean).join(' · ');
    case 'MedicationStatement':
    case 'MedicationRequest':
      return [codeText(r.medicationCodeableConcept) || codeText(resolve(r.medicationReference?.reference)?.code) || r.medicationReference?.display || r.medicationReference?.reference, r.status, r.dosage?.[0]?.text ?? r.dosageInstruction?.[0]?.text].filter(Boolean).join(' · ');
    case 'Immunization':
      return [codeText(r.vaccineCode), dateText(r.occurrenceDateTime), r.status].filter(Boolean).join(' · ');
    case 'Observation':
      return [codeText(r.code), valueText(r), r.interpretation?.map(codeText).join(', '), dateText(r.effectiveDateTime)].filter(Boolean).join(' · ');
    case 'Procedure':
      return [codeText(r.code), dateText(r.performedDateTime) || periodText(r.performedPeriod), r.status].filter(Boolean).join(' · ');
    case 'DiagnosticReport':
      return [codeText(r.code), r.status, dateText(r.effectiveDateTime)].filter(Boolean).join(' · ');
    case 'ServiceRequest':
      return [codeText(r.code), r.status, dateText(r.authoredOn)].filter(Boolean).join(' · ');
    case 'Encounter':
      return [codeText(r.type?.[0]) || r.class?.display || r.class?.code, periodText(r.period), r.status].filter(Boolean).join(' · ');
    case 'QuestionnaireResponse':
      return [`answers to ${r.questionnaire?.replace(/^.*\/Questionnaire\//, '') ?? 'a questionnaire'}`, dateText(r.authored), r.status].filter(Boolean).join(' · ');
    case 'Patient':
      return r.name?.map(nameText).join(' / ') ?? r.id;
    case 'Organization':
      return r.name ?? r.id;
    case 'Practitioner':
      return r.name?.map(nameText).join(' / ') ?? r.id;
    default:
      return [r.resourceType, codeText(r.code) || r.title || r.name || r.id].filter(Boolean).join(' ');
  }
}

/** An error answer shown to the operator (its OperationOutcome's text, which the server keeps
 * free of data beyond what was sent). */
export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.status === 401 || error.status === 403 ? `Not allowed (${error.message}). Paste a token with the needed scope above.` : `The server answered ${error.message}`}</p>`;
}
