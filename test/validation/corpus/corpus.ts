// The validation corpus as data (negative.json, positive.json): each case an official R4 example
// (hl7.fhir.r4.examples) or an instance given whole, changed by a JSON Patch (RFC 6902: add,
// replace, remove), optionally checked against a profile too. A negative case breaks exactly one
// rule and names the issue it must get (severity, FHIRPath expression, a fragment of the
// message); a positive case must get no error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  /** a JSON Pointer (RFC 6901) */
  path: string;
  value?: unknown;
}

interface Instance {
  /** a file of hl7.fhir.r4.examples */
  example?: string;
  /** or the instance itself */
  instance?: Record<string, unknown>;
  patch?: PatchOp[];
  /** validated against this profile too */
  profile?: string;
}

export interface NegativeCase extends Instance {
  name: string;
  /** bundle, extension, invariant, datatype, questionnaire, profile, format, structure … */
  category: string;
  severity: 'error' | 'warning' | 'information';
  expression: string;
  /** a fragment of the expected message */
  message?: string;
}

export interface PositiveCase extends Instance {
  category: string;
}

const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const here = dirname(new URL(import.meta.url).pathname);

export const NEGATIVE: NegativeCase[] = JSON.parse(readFileSync(join(here, 'negative.json'), 'utf8'));
export const POSITIVE: PositiveCase[] = JSON.parse(readFileSync(join(here, 'positive.json'), 'utf8'));

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** RFC 6902 add, replace and remove, in place. */
export function applyPatch(doc: unknown, patch: PatchOp[]): unknown {
  for (const o of patch) {
    const segs = o.path.split('/').slice(1).map(unescape);
    const last = segs.pop();
    if (last === undefined) throw new Error(`${o.op} needs a path below the root`);
    let parent = doc as Record<string, unknown> | unknown[];
    for (const s of segs) {
      const next = Array.isArray(parent) ? parent[Number(s)] : parent[s];
      if (next === null || typeof next !== 'object') throw new Error(`no ${o.path}`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (o.op !== 'add' && i >= parent.length)) throw new Error(`no ${o.path}`);
      if (o.op === 'add') parent.splice(i, 0, o.value);
      else if (o.op === 'replace') parent[i] = o.value;
      else parent.splice(i, 1);
    } else {
      if (o.op !== 'add' && !(last in parent)) throw new Error(`no ${o.path}`);
      if (o.op === 'remove') delete parent[last];
      else parent[last] = o.value;
    }
  }
  return doc;
}

/** The instance a case describes, freshly made. */
export function instanceOf(c: Instance): Record<string, unknown> {
  const base = c.instance ? structuredClone(c.instance) : JSON.parse(readFileSync(join(examples, c.example!), 'utf8'));
  return applyPatch(base, c.patch ?? []) as Record<string, unknown>;
}

/** Counts per category, for the test's report. */
export function perCategory(cases: { category: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cases) out[c.category] = (out[c.category] ?? 0) + 1;
  return out;
}
