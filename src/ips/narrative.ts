// Narrative (text.div) for IPS sections: a short XHTML table per section, escaped, so the
// summary is readable by a clinician whose system does not understand the coded entries.
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function concept(cc: any): string {
  if (!cc) return '';
  return cc.text ?? cc.coding?.[0]?.display ?? cc.coding?.[0]?.code ?? '';
}

function when(r: any): string {
  return r.onsetDateTime ?? r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.occurrenceDateTime ?? r.performedDateTime ?? r.performedPeriod?.start ?? r.recordedDate ?? r.authoredOn ?? r.authored ?? r.issued ?? '';
}

function value(r: any): string {
  if (r.valueQuantity) return `${r.valueQuantity.value ?? ''} ${r.valueQuantity.unit ?? r.valueQuantity.code ?? ''}`.trim();
  if (r.valueCodeableConcept) return concept(r.valueCodeableConcept);
  if (r.valueString) return r.valueString;
  if (r.component) return r.component.map((c: any) => `${concept(c.code)}: ${c.valueQuantity?.value ?? ''} ${c.valueQuantity?.unit ?? ''}`.trim()).join('; ');
  return '';
}

/** What a row says about one resource. */
export function describe(r: any): [string, string, string] {
  switch (r.resourceType) {
    case 'MedicationStatement':
    case 'MedicationRequest':
      return [concept(r.medicationCodeableConcept) || r.medicationReference?.display || r.medicationReference?.reference || '', r.status ?? '', (r.dosage ?? r.dosageInstruction ?? []).map((d: any) => d.text).filter(Boolean).join('; ')];
    case 'Immunization':
      return [concept(r.vaccineCode), r.occurrenceDateTime ?? r.occurrenceString ?? '', r.status ?? ''];
    case 'AllergyIntolerance':
      return [concept(r.code), r.criticality ?? '', (r.reaction ?? []).flatMap((x: any) => (x.manifestation ?? []).map(concept)).join(', ')];
    case 'ServiceRequest':
      return [concept(r.category?.[0]) || concept(r.code), r.status ?? '', r.performer?.[0]?.display ?? r.performer?.[0]?.reference ?? ''];
    case 'QuestionnaireResponse':
      return [String(r.questionnaire ?? '').replace(/^.*\/Questionnaire\//, ''), when(r), total(r.item) ?? r.status ?? ''];
    default:
      return [concept(r.code), when(r), value(r) || concept(r.clinicalStatus) || r.status || ''];
  }
}

/** The total score of a questionnaire response (PHQ-9, GAD-7: an item whose linkId ends in total). */
function total(items: any[] | undefined, depth = 0): string | undefined {
  for (const i of items ?? []) {
    const a = i.answer?.[0];
    if (/(^|-)(total|score)$/.test(i.linkId ?? '') && a) return `total score ${a.valueInteger ?? a.valueDecimal ?? concept(a.valueCoding)}`;
    const inner = depth < 8 ? total(i.item, depth + 1) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

const JOURNEY = 'https://migfhir.org/fhir/StructureDefinition/migration-journey';
const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const INTERPRETER = 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired';
const part = (e: any, url: string) => (e?.extension ?? []).filter((x: any) => x.url === url);
const country = (v: any) => v?.coding?.[0]?.code ?? v?.text ?? '';
const period = (p: any) => (p ? ` (${[p.start, p.end].filter(Boolean).join(' – ')})` : '');

/** What a receiving clinician needs about the person's migration (MigrantPatient extensions):
 * languages, interpreter need, origin, countries of transit, arrival and status. */
export function migrationLead(patient: any): string {
  const langs = (patient.communication ?? []).map((c: any) => `${concept(c.language)}${c.preferred ? ' (preferred)' : ''}`);
  const interpreter = patient.extension?.find((e: any) => e.url === INTERPRETER)?.valueBoolean;
  const parts = [
    langs.length ? `Languages: ${langs.join(', ')}.` : 'Languages: not recorded.',
    interpreter === undefined ? 'Interpreter need: not recorded.' : interpreter ? 'An interpreter is required.' : 'No interpreter required.',
  ];
  for (const j of patient.extension?.filter((e: any) => e.url === JOURNEY) ?? []) {
    const origin = country(part(j, 'countryOfOrigin')[0]?.valueCodeableConcept);
    if (origin) parts.push(`Country of origin: ${origin}${part(j, 'departureDate')[0] ? `, left ${part(j, 'departureDate')[0].valueDate}` : ''}.`);
    const transit = part(j, 'transit').map((t: any) => `${country(part(t, 'country')[0]?.valueCodeableConcept)}${period(part(t, 'period')[0]?.valuePeriod)}`);
    if (transit.length) parts.push(`Countries of transit: ${transit.join(', ')}.`);
    if (part(j, 'arrivalDate')[0]) parts.push(`Arrived: ${part(j, 'arrivalDate')[0].valueDate}.`);
  }
  for (const s of patient.extension?.filter((e: any) => e.url === STATUS) ?? []) {
    const status = concept(part(s, 'status')[0]?.valueCodeableConcept);
    const granted = country(part(s, 'grantingCountry')[0]?.valueCodeableConcept);
    if (status) parts.push(`Migration status: ${status}${granted ? ` in ${granted}` : ''}${period(part(s, 'period')[0]?.valuePeriod)}.`);
  }
  return parts.join(' ');
}

export function sectionDiv(title: string, header: [string, string, string], rows: [string, string, string][], lead = ''): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<div xmlns="http://www.w3.org/1999/xhtml"><h3>${esc(title)}</h3>${lead ? `<p>${esc(lead)}</p>` : ''}${rows.length ? `<table><thead>${head}</thead><tbody>${body}</tbody></table>` : ''}</div>`;
}

export function emptyDiv(title: string, reason: string): string {
  return `<div xmlns="http://www.w3.org/1999/xhtml"><h3>${esc(title)}</h3><p>${esc(reason)}</p></div>`;
}

export { esc, concept };
