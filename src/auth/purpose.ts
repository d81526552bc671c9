// The "firewall" principle: health data collected for care is not available for immigration
// enforcement (WHO Europe action plan for refugee and migrant health 2023–2030; WHO 2020
// guidance on migrant health data: prevent "unauthorized access and use of health data for
// non-health purposes"). A request whose stated purpose of use — the X-Purpose-Of-Use header
// or the access token's purpose_of_use claim — is on the refused list gets 403 and is audited.
//
// A purpose is compared parsed and normalised, never as the string it was sent as: otherwise
// `Immigration-Enforcement`, `http://` for `https://`, a trailing `/`, `%7C`, spaces around `|`
// or `;q=1` each slip past an exact match. A purpose that cannot be parsed is refused with 400
// rather than let through.
import { FhirError } from '../fhir/errors.ts';

export const PURPOSE_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/purpose-of-use';
export const V3_PURPOSE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const PURPOSE_HEADER = 'x-purpose-of-use';

/** A purpose of use as stated; `system` is absent for a bare code. */
export interface Purpose {
  system?: string;
  code: string;
}

/** Longest purpose (system|code) accepted: real ones are well under 200 characters. */
const MAX_PURPOSE = 512;
const CONTROL = /[\u0000-\u001f\u007f]/;
const ENCODED = /%[0-9A-Fa-f]{2}/;

function unparseable(why: string): FhirError {
  return new FhirError(400, { code: 'value', diagnostics: `Purpose of use not understood: ${why}; send system|code (e.g. ${V3_PURPOSE_SYSTEM}|TREAT)` });
}

/** One `system|code` (or bare code) of a list, already percent-decoded. Parameters (`;q=1`)
 * are dropped, spaces around `|` trimmed; an empty part, a second `|` or whitespace inside
 * the system is unparseable. */
export function parsePurpose(text: string): Purpose {
  if (text.length > MAX_PURPOSE) throw unparseable(`longer than ${MAX_PURPOSE} characters`);
  if (CONTROL.test(text)) throw unparseable('control characters');
  const value = text.split(';')[0].trim();
  if (!value) throw unparseable('empty');
  const parts = value.split('|').map((s) => s.trim());
  if (parts.length > 2) throw unparseable(`more than one '|' in '${value.slice(0, 100)}'`);
  const code = parts[parts.length - 1].replace(/\s+/g, ' ');
  if (!code) throw unparseable(`no code in '${value.slice(0, 100)}'`);
  if (parts.length === 1) return { code };
  const system = parts[0];
  if (!system) throw unparseable(`no system in '${value.slice(0, 100)}'`);
  if (/\s/.test(system)) throw unparseable(`whitespace in the system '${system.slice(0, 100)}'`);
  return { system, code };
}

/** Purposes of a comma-separated list (the header; a repeated header arrives joined by commas).
 * Percent-encoding is decoded once; anything still encoded after that is refused, since a
 * second decoding elsewhere could read it differently. */
export function parsePurposes(list: string | undefined): Purpose[] {
  if (!list) return [];
  let decoded = list;
  if (ENCODED.test(list)) {
    try {
      decoded = decodeURIComponent(list);
    } catch {
      throw unparseable('malformed percent-encoding');
    }
    if (ENCODED.test(decoded)) throw unparseable('percent-encoded more than once');
  }
  return decoded
    .split(',')
    .filter((s) => s.trim())
    .map(parsePurpose);
}

/** The comparison form of a system: the scheme (http or https), a default port and trailing
 * slashes do not tell two systems apart, nor does letter case anywhere — host or path (a
 * refused list errs on the side of refusing). */
export function normalSystem(system: string): string {
  return system
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^([^/]*):(?:80|443)(?=\/|$)/, '$1')
    .replace(/\/+$/, '');
}

export function normalCode(code: string): string {
  return code.toLowerCase();
}

/** `system|code` as recorded (audit, AuthContext): a bare code is read in the v3-ActReason
 * system, the FHIR value set for purpose of use. */
export function purposeText(p: Purpose): string {
  return `${p.system ?? V3_PURPOSE_SYSTEM}|${p.code}`;
}

/** The refused list, parsed once per configured array. */
const refusedCache = new WeakMap<readonly string[], Purpose[]>();

function refusedOf(refused: readonly string[]): Purpose[] {
  let parsed = refusedCache.get(refused);
  if (!parsed) {
    parsed = refused.map(parsePurpose);
    refusedCache.set(refused, parsed);
  }
  return parsed;
}

/** Whether `p` is the refused purpose `r`: same code (any case) in the same system (normalised);
 * a bare code on either side matches that code in every system, so leaving the system out does
 * not get a refused code through. */
export function samePurpose(p: Purpose, r: Purpose): boolean {
  if (normalCode(p.code) !== normalCode(r.code)) return false;
  return p.system === undefined || r.system === undefined || normalSystem(p.system) === normalSystem(r.system);
}

/** 403 when any of `purposes` is refused. */
export function checkPurposes(purposes: readonly Purpose[], refused: readonly string[]): void {
  const list = refusedOf(refused);
  const hit = purposes.find((p) => list.some((r) => samePurpose(p, r)));
  if (hit) {
    throw new FhirError(403, {
      code: 'forbidden',
      diagnostics: `Purpose of use ${hit.system ? `${hit.system}|` : ''}${hit.code} is refused: this server does not disclose health data for that purpose`,
    });
  }
}
