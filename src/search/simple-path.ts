// A fast evaluator for the FHIRPath expressions most search parameters use: unions of plain
// paths (`Patient.name`, `Observation.component.code`, `Resource.meta.tag`), optionally ending
// in a type cast (`(Observation.value as Quantity)`, `value.as(Quantity)`). Paths are resolved
// once against the R4 element table, so evaluation is a few property reads with the FHIR type
// of every result known. A path may end in a filter on one of its own primitive elements,
// `.where(system='phone')`, or in `.extension('url')` (FHIRPath's shorthand for
// `.extension.where(url='url')`): both keep the items whose element equals the literal. Anything
// else (other where() forms, functions, operators) is left to fhirpath.
import type { PathInfo } from '../fhir/definitions.ts';
import type { FhirNode } from './registry.ts';

type Step = { name: string } | { choice: { key: string; type: string }[] };
const BACKBONE = new Set(['BackboneElement', 'Element']);

/** Splits `a | (b as X) | c` at top-level unions. */
export function unionBranches(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" && expression[i - 1] !== '\\') quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth--;
    else if (!quote && depth === 0 && c === '|') {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out;
}

const BRANCH = /^\(?\s*((?:[A-Z][A-Za-z]+\.)?[a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*)(?:\s+as\s+([A-Za-z]+)|\.as\(([A-Za-z]+)\))?\s*\)?$/;

/** FHIR type → its base type, for `as`, which (like `is`) also accepts subtypes. */
const BASE_TYPE: Record<string, string> = {
  canonical: 'uri', url: 'uri', oid: 'uri', uuid: 'uri', code: 'string', id: 'string', markdown: 'string',
  unsignedInt: 'integer', positiveInt: 'integer', Age: 'Quantity', Count: 'Quantity', Distance: 'Quantity',
  Duration: 'Quantity', SimpleQuantity: 'Quantity', MoneyQuantity: 'Quantity',
};

function isA(type: string, target: string): boolean {
  for (let t: string | undefined = type; t; t = BASE_TYPE[t]) if (t.toLowerCase() === target.toLowerCase()) return true;
  return false;
}

function cap(t: string): string {
  return t[0].toUpperCase() + t.slice(1);
}

/** Resolves one branch into steps and the result type, or undefined when not a plain path. */
interface Plan {
  steps: Step[];
  type?: string;
  /** the element path of backbone results (Observation.component), for composite components */
  path?: string;
  /** keep only results whose element `name` equals `value` */
  filter?: { name: string; value: string };
}

const WHERE_EQUALS = /^(.+)\.where\(\s*([a-z][A-Za-z0-9]*)\s*=\s*'([^'\\]*)'\s*\)$/;
const EXTENSION_URL = /^(.+)\.extension\(\s*'([^'\\]*)'\s*\)$/;
/** Primitive types whose JSON value is a string: FHIRPath `=` on them is string equality. */
const STRING_PRIMITIVES = new Set(['string', 'code', 'uri', 'url', 'canonical', 'id', 'oid', 'uuid']);

/** A plain path ending in an equality filter on one of its results' own single primitive elements. */
function resolveFiltered(branch: string, rootPath: string, paths: Record<string, PathInfo>): Plan | undefined {
  const w = WHERE_EQUALS.exec(branch);
  const e = w ? undefined : EXTENSION_URL.exec(branch);
  const [prefix, name, value] = w ? [w[1], w[2], w[3]] : e ? [`${e[1]}.extension`, 'url', e[2]] : [];
  if (prefix === undefined || /[()]/.test(prefix)) return undefined;
  const plan = resolve(prefix, rootPath, paths);
  const type = plan?.type;
  if (!plan || !type || plan.steps.some((s) => 'choice' in s)) return undefined;
  // the filtered element, on the result's own type (ContactPoint.system, Extension.url)
  const info = paths[`${type === 'BackboneElement' ? plan.path : type}.${name}`];
  if (!info || info.choice || info.max !== '1' || info.types.length !== 1 || !STRING_PRIMITIVES.has(info.types[0])) return undefined;
  return { ...plan, filter: { name: name!, value: value! } };
}

function resolve(branch: string, rootPath: string, paths: Record<string, PathInfo>): Plan | undefined {
  if (/\.(where|extension)\(/.test(branch)) return resolveFiltered(branch.trim(), rootPath, paths);
  // the root itself (a composite parameter's "Observation")
  if (branch.trim() === rootPath) return { steps: [], type: rootPath, path: rootPath };
  const m = BRANCH.exec(branch.trim());
  if (!m) return undefined;
  const segments = m[1].split('.');
  const as = m[2] ?? m[3];
  let key = rootPath;
  if (/^[A-Z]/.test(segments[0])) {
    if (segments[0] !== rootPath && segments[0] !== 'Resource' && segments[0] !== 'DomainResource') return undefined;
    segments.shift();
    if (!paths[`${key}.${segments[0]}`] && paths[`Resource.${segments[0]}`]) key = 'Resource';
  }
  const steps: Step[] = [];
  let type: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const info = paths[`${key}.${seg}`] ?? (key !== 'Resource' && !key.includes('.') ? paths[`DomainResource.${seg}`] ?? paths[`Resource.${seg}`] : undefined);
    if (!info) return undefined;
    const last = i === segments.length - 1;
    if (info.choice) {
      if (!last) return undefined;
      const types = info.types.filter((t) => !as || isA(t, as));
      if (types.length === 0) return undefined;
      steps.push({ choice: types.map((t) => ({ key: seg + cap(t), type: t })) });
      return { steps };
    }
    if (as) {
      if (last && !info.types.some((t) => isA(t, as))) return undefined;
    }
    steps.push({ name: seg });
    const t = info.types[0];
    if (info.types.length !== 1) return undefined;
    if (t.startsWith('#')) key = t.slice(1);
    else if (BACKBONE.has(t)) key = `${key}.${seg}`;
    else key = t;
    type = t.startsWith('#') || BACKBONE.has(t) ? 'BackboneElement' : t;
  }
  // backbone elements are typed by their path; complex datatypes (UsageContext) by their name
  const path = type === 'BackboneElement' ? key : type && /^[A-Z]/.test(type) && !as ? type : undefined;
  return { steps, type: as ?? type, ...(path ? { path } : {}) };
}

function run(root: unknown, steps: Step[], finalType: string | undefined, out: FhirNode[], path?: string, filter?: Plan['filter']): void {
  let nodes: unknown[] = [root];
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s];
    const next: unknown[] = [];
    const lastStep = s === steps.length - 1;
    for (const n of nodes) {
      if (n === null || typeof n !== 'object') continue;
      const obj = n as Record<string, unknown>;
      if ('name' in step) {
        const v = obj[step.name];
        if (v === undefined || v === null) continue;
        if (Array.isArray(v)) {
          for (const x of v) if (x !== null) next.push(x);
        } else next.push(v);
      } else {
        for (const c of step.choice) {
          const v = obj[c.key];
          if (v !== undefined && v !== null) {
            if (lastStep) out.push({ data: v, type: c.type });
            break;
          }
        }
      }
    }
    nodes = next;
  }
  if (filter) nodes = nodes.filter((n) => n !== null && typeof n === 'object' && (n as Record<string, unknown>)[filter.name] === filter.value);
  if (finalType !== undefined) for (const n of nodes) out.push(path ? { data: n, type: finalType, path } : { data: n, type: finalType });
}

/** Whether any plain-path branch of `expression` ends in an element of type `canonical`. */
export function endsInCanonical(expression: string, rootPath: string, paths: Record<string, PathInfo>): boolean {
  return unionBranches(expression).some((b) => {
    const r = resolve(b, rootPath, paths);
    if (!r) return false;
    const last = r.steps[r.steps.length - 1];
    return r.type === 'canonical' || (last !== undefined && 'choice' in last && last.choice.some((c) => c.type === 'canonical'));
  });
}

/** A compiled evaluator for `expression` rooted at `rootPath` (a resource type, or an element
 * path such as Observation.component for composite components), or undefined. */
export function compileSimplePath(expression: string, rootPath: string, paths: Record<string, PathInfo>): ((input: unknown) => FhirNode[]) | undefined {
  const branches = unionBranches(expression).map((b) => resolve(b, rootPath, paths));
  if (branches.some((b) => !b)) return undefined;
  const plans = branches as Plan[];
  return (input) => {
    const out: FhirNode[] = [];
    for (const p of plans) run(input, p.steps, p.steps.length && 'choice' in p.steps[p.steps.length - 1] ? undefined : p.type, out, p.path, p.filter);
    return out;
  };
}
