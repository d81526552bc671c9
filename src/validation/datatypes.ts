// Type-level rules of R4's datatypes (datatypes.html) that no invariant states, as the HL7
// reference validator checks them: an Attachment's size is that of its data, code and identifier
// systems are absolute URIs (and a Coding names a code system, not a value set), a Reference is
// written in one of the forms references.html allows and agrees with its own type, and strings do
// not start or end with whitespace.
import { resourceAddress } from '../fhir/reference.ts';

type Json = Record<string, unknown>;

export interface DatatypeIssue {
  severity: 'error' | 'warning';
  code: 'value' | 'invalid' | 'structure';
  /** relative to the value: `.system`, or '' for the value itself */
  at: string;
  message: string;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
/** relative literal references: Type/id[/_history/vid], and conditional ones (Type?params) */
const RELATIVE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$|^[A-Z][A-Za-z]+\?\S+$/;

/** The number of bytes base64 text decodes to. */
function decodedLength(data: string): number {
  const compact = data.replace(/\s+/g, '');
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  return (compact.length / 4) * 3 - padding;
}

function absoluteSystem(system: unknown, owner: string, out: DatatypeIssue[]): void {
  if (typeof system !== 'string' || system === '' || SCHEME.test(system)) return;
  out.push({ severity: 'error', code: 'invalid', at: '.system', message: `${owner}.system must be an absolute reference, not a local reference ('${system.slice(0, 100)}')` });
}

/** The types the switch below has rules for. */
const RULED_TYPES = new Set(['Attachment', 'Coding', 'Identifier', 'Quantity', 'Age', 'Count', 'Distance', 'Duration', 'SimpleQuantity', 'MoneyQuantity', 'Reference']);

/** Issues of one complex value of a datatype. */
export function datatypeIssues(type: string, v: Json, resourceTypes: ReadonlySet<string>): readonly DatatypeIssue[] {
  if (!RULED_TYPES.has(type)) return NO_ISSUES;
  const out: DatatypeIssue[] = [];
  switch (type) {
    case 'Attachment': {
      if (typeof v.data === 'string' && typeof v.size === 'number') {
        const actual = decodedLength(v.data);
        if (Number.isInteger(actual) && actual !== v.size) out.push({ severity: 'error', code: 'value', at: '.size', message: `Stated Attachment Size ${v.size} does not match actual attachment size ${actual}` });
      }
      break;
    }
    case 'Coding':
      absoluteSystem(v.system, 'Coding', out);
      if (typeof v.system === 'string' && /^https?:\/\/hl7\.org\/fhir\/ValueSet\//.test(v.system)) out.push({ severity: 'error', code: 'invalid', at: '.system', message: `The Coding references a value set, not a code system ('${v.system.slice(0, 200)}')` });
      break;
    case 'Identifier':
      absoluteSystem(v.system, 'Identifier', out);
      break;
    case 'Quantity':
    case 'Age':
    case 'Count':
    case 'Distance':
    case 'Duration':
    case 'SimpleQuantity':
    case 'MoneyQuantity':
      absoluteSystem(v.system, 'Quantity', out);
      break;
    case 'Reference': {
      const ref = v.reference;
      if (typeof ref !== 'string') break;
      if (!(ref.startsWith('#') || SCHEME.test(ref) || RELATIVE.test(ref))) {
        out.push({ severity: 'error', code: 'invalid', at: '.reference', message: `Invalid reference format '${ref.slice(0, 200)}': a literal reference is Type/id, an absolute URL, a urn:uuid/urn:oid or #id of a contained resource` });
        break;
      }
      if (ref.startsWith('urn:uuid:') && !UUID.test(ref)) out.push({ severity: 'error', code: 'invalid', at: '.reference', message: `'${ref.slice(0, 200)}' is not a valid urn:uuid` });
      else if (ref.startsWith('urn:oid:') && !OID.test(ref)) out.push({ severity: 'error', code: 'invalid', at: '.reference', message: `'${ref.slice(0, 200)}' is not a valid urn:oid` });
      // Reference.type, when given, is the type the reference names
      const named = ref.startsWith('#') || ref.startsWith('urn:') ? undefined : resourceAddress(ref);
      if (typeof v.type === 'string' && resourceTypes.has(v.type) && named && resourceTypes.has(named.type) && named.type !== v.type) {
        out.push({ severity: 'error', code: 'invalid', at: '', message: `The reference ${ref.slice(0, 200)} names a ${named.type}, but its type says ${v.type}` });
      }
      break;
    }
  }
  return out;
}

/** Issues of a primitive value beyond its format (primitives.ts): strings should not start or
 * end with whitespace (a warning, as the reference validator's). */
export function primitiveIssues(type: string, v: string): readonly DatatypeIssue[] {
  if (type === 'string' && v.length && (v.charCodeAt(0) <= 32 || v.charCodeAt(v.length - 1) <= 32) && v.trim() !== v) {
    return [{ severity: 'warning', code: 'value', at: '', message: 'The value should not start or finish with whitespace' }];
  }
  return NO_ISSUES;
}

/** What nearly every value gets: one empty list, not a new one per value. */
const NO_ISSUES: readonly DatatypeIssue[] = Object.freeze([]);
