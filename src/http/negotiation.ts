// Response formats: JSON only. _format and Accept that ask for nothing JSON get 406; the
// response is always application/fhir+json.
import { FhirError } from '../fhir/errors.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir', 'text/json']);
const ACCEPTABLE = new Set(['*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/json+fhir', 'text/json']);

function notAcceptable(what: string): FhirError {
  return new FhirError(406, {
    code: 'not-supported',
    diagnostics: `${what}: this server answers in JSON only (application/fhir+json)`,
  });
}

export function negotiate(format: string | undefined, accept: string | undefined): void {
  if (format !== undefined) {
    const f = format.split(';')[0].trim().toLowerCase();
    if (!JSON_FORMATS.has(f)) throw notAcceptable(`_format=${format.slice(0, 64)}`);
    return;
  }
  if (!accept || accept.trim() === '') return;
  const ok = accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return ACCEPTABLE.has(type) && !(q && Number(q.slice(2)) === 0);
  });
  if (!ok) throw notAcceptable(`Accept: ${accept.slice(0, 100)}`);
}

export function isPretty(value: string | undefined): boolean {
  return value === 'true';
}
