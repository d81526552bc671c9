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
      return [r.questionnaire ?? '', when(r), r.status ?? ''];
    default:
      return [concept(r.code), when(r), value(r) || concept(r.clinicalStatus) || r.status || ''];
  }
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
