// The "firewall" principle: health data collected for care is not available for immigration
// enforcement (WHO Europe action plan for refugee and migrant health 2023–2030; WHO 2020
// guidance on migrant health data: prevent "unauthorized access and use of health data for
// non-health purposes"). A request whose stated purpose of use — the X-Purpose-Of-Use header
// or the access token's purpose_of_use claim — is on the refused list gets 403 and is audited.
import { FhirError } from '../fhir/errors.ts';

export const PURPOSE_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/purpose-of-use';
export const V3_PURPOSE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const DEFAULT_REFUSED = [`${PURPOSE_SYSTEM}|immigration-enforcement`];
export const PURPOSE_HEADER = 'x-purpose-of-use';

/** `system|code` values from a comma-separated header; a bare code means the v3 system. */
export function parsePurposes(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s.includes('|') ? s : `${V3_PURPOSE_SYSTEM}|${s}`));
}

export function checkPurposes(purposes: string[], refused: string[]): void {
  const hit = purposes.find((p) => refused.includes(p));
  if (hit) {
    throw new FhirError(403, {
      code: 'forbidden',
      diagnostics: `Purpose of use ${hit} is refused: this server does not disclose health data for that purpose`,
    });
  }
}
