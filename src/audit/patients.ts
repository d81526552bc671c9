// The patients a FHIR JSON text names, for the AuditEvents of the requests that disclosed it
// (src/http/audit.ts): a reference, an entry's fullUrl or a transaction response's location
// naming Patient/id (relative or absolute), and a Patient resource's own id.
import { ID_SOURCE } from '../fhir/reference.ts';

const PATIENT_IN_TEXT = new RegExp(`"(?:reference|fullUrl|location)":"(?:[^"]*/)?Patient/(${ID_SOURCE})(?:/_history/[^"]*)?"|"resourceType":"Patient","id":"(${ID_SOURCE})"`, 'g');

/** Adds the patients `text` names to `found` (as Patient/id). */
export function addPatientsIn(found: Set<string>, text: string | undefined): void {
  if (text === undefined || !text.includes('Patient')) return;
  for (const m of text.matchAll(PATIENT_IN_TEXT)) found.add(`Patient/${m[1] ?? m[2]}`);
}

/** The patients of the stored resources an answer discloses — a Patient itself, and those its
 * text refers to: what the trail records when the answer shows less of them (_summary,
 * _elements). */
export function patientsOfStored(resources: { resourceType: string; id: string; json: string | null }[]): string[] {
  const found = new Set<string>();
  for (const r of resources) {
    if (r.resourceType === 'Patient') found.add(`Patient/${r.id}`);
    addPatientsIn(found, r.json ?? undefined);
  }
  return [...found];
}

/** The patients of one stored version (patientsOfStored), remembered with it: a version's text
 * never changes, and the embedded store's cache of current versions hands the same object to
 * every read of one, so a resource read again and again is scanned once. Frozen: shared. */
const ofVersion = new WeakMap<object, readonly string[]>();
export function patientsOfVersion(v: { resourceType: string; id: string; json: string | null }): readonly string[] {
  let found = ofVersion.get(v);
  if (!found) {
    found = Object.freeze(patientsOfStored([v]));
    ofVersion.set(v, found);
  }
  return found;
}
