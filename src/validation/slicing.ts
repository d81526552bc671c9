// Slicing (https://hl7.org/fhir/R4/profiling.html#slicing): which slice each repetition of a
// sliced element belongs to, by the slicing's discriminators (value, pattern, type, profile,
// exists), and the checks on the result: closed/openAtEnd rules, order, per-slice cardinality.
import type { CompiledProfile, ElementNode } from './profiles.ts';
import { CORE } from './profiles.ts';
import { jsonEqual } from '../fhir/json.ts';

/** Whether `value` meets `pattern[x]`: every property of the pattern is present with a matching
 * value; each element of a pattern array matches some element of the value's array. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (Array.isArray(pattern)) {
    const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return pattern.every((p) => list.some((v) => matchesPattern(v, p)));
  }
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => matchesPattern(v, pattern));
  for (const [k, p] of Object.entries(pattern)) {
    if (!matchesPattern((value as Record<string, unknown>)[k], p)) return false;
  }
  return true;
}

/** The values at a discriminator path (a restricted FHIRPath: names, $this, extension('url'),
 * ofType(T), resolve() — references resolved inside the resource and its Bundle) from one
 * repetition. */
function valuesAt(item: unknown, path: string, resolve: (reference: unknown) => unknown): unknown[] | undefined {
  let cur: unknown[] = [item];
  const steps = path.match(/extension\('[^']*'\)|ofType\([A-Za-z]+\)|[A-Za-z$][A-Za-z0-9_]*(?:\(\))?/g) ?? [];
  for (const step of steps) {
    if (step === '$this') continue;
    if (step === 'resolve()') {
      cur = cur.map(resolve).filter((r) => r !== undefined);
      continue;
    }
    const next: unknown[] = [];
    const ext = /^extension\('([^']*)'\)$/.exec(step);
    for (const c of cur) {
      if (c === null || typeof c !== 'object') continue;
      const o = c as Record<string, unknown>;
      if (ext) {
        for (const e of (o.extension as Record<string, unknown>[] | undefined) ?? []) if (e?.url === ext[1]) next.push(e);
        continue;
      }
      if (step.startsWith('ofType(')) {
        next.push(c);
        continue;
      }
      let v = o[step];
      if (v === undefined) {
        // a choice element named without its type (value → valueString)
        const k = Object.keys(o).find((key) => key.startsWith(step) && /^[A-Z]/.test(key.slice(step.length)));
        if (k) v = o[k];
      }
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined) next.push(v);
    }
    cur = next;
  }
  return cur;
}

/** The element definitions at a discriminator path inside a slice (through its children; where
 * the path crosses a sliced element, through that element's slices too, as in the blood pressure
 * profile's `code.coding.code`, whose fixed values sit in the coding slices). */
export function definitionsAt(profile: CompiledProfile, slice: ElementNode, path: string): ElementNode[] {
  // the definitions of a resolve() path are those of the reference element itself
  path = path.replace(/\.?resolve\(\)$/, '') || '$this';
  if (path === '$this') return [slice];
  let nodes: ElementNode[] = [slice];
  for (const raw of path.split('.')) {
    // `$this.system` (HL7 Italia's identifier slices) is the slice's own `system`
    if (raw === '$this') continue;
    const name = raw.replace(/\(\)$/, '');
    const ext = /^extension\('([^']*)'\)$/.exec(raw);
    const next: ElementNode[] = [];
    for (const node of nodes) {
      if (ext) {
        const host = node.children.find((c) => c.name === 'extension');
        const hit = host?.slices.find((s) => s.types.some((t) => t.profiles?.includes(ext[1])));
        if (hit) next.push(hit);
        continue;
      }
      const child = node.children.find((c) => c.name === name) ?? profile.byId.get(`${node.id}.${name}`) ?? profile.byId.get(`${node.id}.${name}[x]`);
      if (child) next.push(child, ...child.slices);
    }
    nodes = next;
  }
  return nodes;
}

export interface SliceContext {
  profile: CompiledProfile;
  /** whether `item` is valid against the profile url (for profile discriminators) */
  conformsTo(item: unknown, profileUrl: string): boolean;
  /** the FHIR type of a repetition (its choice suffix or resourceType) */
  typeOf(item: unknown, key: string): string | undefined;
  /** the resource a Reference points to, inside the resource or its Bundle */
  resolve(reference: unknown): unknown;
  /** the resource type a target profile constrains */
  profileType(url: string): string | undefined;
  /** whether a value (a code, uri or string; a Coding) is in the value set: for value
   * discriminators on an element with a required binding */
  inValueSet?(valueSet: string, value: unknown): boolean;
}

function matchesSlice(item: unknown, key: string, base: ElementNode, slice: ElementNode, ctx: SliceContext): boolean {
  const discriminators = base.slicing?.discriminator ?? [];
  if (!discriminators.length) {
    // no discriminator: a slice on a choice element named by its type (value[x]:valueQuantity)
    if (base.choice) return slice.sliceName === key;
    return false;
  }
  for (const d of discriminators) {
    const values = valuesAt(item, d.path, ctx.resolve);
    if (values === undefined) return false;
    const defs = definitionsAt(ctx.profile, slice, d.path);
    const def = defs[0];
    switch (d.type) {
      case 'value':
      case 'pattern': {
        const expected: ((v: unknown) => boolean)[] = [];
        for (const x of defs) {
          if (x.fixed !== undefined) expected.push((v) => jsonEqual(v, x.fixed));
          else if (x.pattern !== undefined) expected.push((v) => matchesPattern(v, x.pattern));
          // a required binding selects too (FHIR profiling: "fixed value, pattern, or required
          // ValueSet binding"): HL7 Italia's STP and ENI slices bind identifier.system
          else if (x.binding?.strength === 'required' && x.binding.valueSet && ctx.inValueSet) {
            const vs = x.binding.valueSet;
            expected.push((v) => ctx.inValueSet!(vs, v));
          }
        }
        if (!expected.length && d.path === 'url' && slice.types[0]?.code === 'Extension' && slice.types[0].profiles?.[0]) {
          const url = slice.types[0].profiles[0];
          expected.push((v) => v === url);
        }
        if (!expected.length) return false;
        if (!values.some((v) => expected.some((e) => e(v)))) return false;
        break;
      }
      case 'exists': {
        const required = (def?.min ?? 0) > 0;
        const forbidden = def?.max === 0;
        if (required && values.length === 0) return false;
        if (forbidden && values.length > 0) return false;
        break;
      }
      case 'type': {
        const types = d.path.endsWith('resolve()')
          ? (def ?? slice).types.flatMap((t) => (t.targetProfiles ?? []).map((p) => ctx.profileType(p) ?? ''))
          : (def ?? slice).types.map((t) => t.code);
        const actual = d.path === '$this' ? ctx.typeOf(item, key) : values.map((v) => ctx.typeOf(v, ''))[0];
        if (!actual || !types.includes(actual)) return false;
        break;
      }
      case 'profile': {
        const profiles = (def ?? slice).types.flatMap((t) => (d.path.endsWith('resolve()') ? t.targetProfiles ?? [] : t.profiles ?? []));
        if (!profiles.length || !values.some((v) => profiles.some((p) => ctx.conformsTo(v, p)))) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

export interface SliceAssignment {
  /** slice per repetition, undefined when it matched none */
  slices: (ElementNode | undefined)[];
  problems: { index?: number; severity: 'error' | 'warning'; message: string }[];
}

/** Assigns repetitions to slices and checks the slicing's rules and the slices' cardinality. */
export function assignSlices(items: unknown[], keys: string[], base: ElementNode, ctx: SliceContext): SliceAssignment {
  const slices = items.map((item, i) => base.slices.find((s) => matchesSlice(item, keys[i], base, s, ctx)));
  const problems: SliceAssignment['problems'] = [];
  const rules = base.slicing?.rules ?? 'open';
  let lastOrder = -1;
  let unmatchedSeen = false;
  slices.forEach((s, i) => {
    if (!s) {
      unmatchedSeen = true;
      if (rules === 'closed') problems.push({ index: i, severity: 'error', message: `This element does not match any known slice defined in the profile ${ctx.profile.url} and slicing is CLOSED` });
      return;
    }
    const order = base.slices.indexOf(s);
    if (base.slicing?.ordered && order < lastOrder) problems.push({ index: i, severity: 'error', message: `As specified by the profile ${ctx.profile.url}, the slices must be in order; the slice '${s.sliceName}' is out of order` });
    if (rules === 'openAtEnd' && unmatchedSeen) problems.push({ index: i, severity: 'error', message: `The slice '${s.sliceName}' follows an element that matches no slice, but the slicing is open at the end only` });
    lastOrder = Math.max(lastOrder, order);
  });
  for (const s of base.slices) {
    const n = slices.filter((x) => x === s).length;
    if (n < s.min) problems.push({ severity: 'error', message: `Slice '${s.sliceName}': a matching slice is required, but not found (minimum required = ${s.min}, but only found ${n})` });
    if (n > s.max) problems.push({ severity: 'error', message: `Slice '${s.sliceName}': maximum allowed = ${s.max}, but found ${n}` });
  }
  return { slices, problems };
}

/** Core type name of a target profile url (CORE + 'Patient' → 'Patient'). */
export function coreType(url: string): string | undefined {
  return url.startsWith(CORE) ? url.slice(CORE.length) : undefined;
}
