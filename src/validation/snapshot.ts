// Snapshot generation: a profile's differential applied to its base's snapshot
// (https://hl7.org/fhir/R4/profiling.html#snapshot). Walks the differential in order; each
// element is found in the growing snapshot by id, creating what it names on the way:
// - children of a complex element are copied from the element's type (or type profile, or
//   contentReference, or — for a slice — from the sliced element's own constrained children);
// - a slice (`Patient.identifier:amka`) is a copy of the sliced element as the base has it
//   (not as this differential constrains it), minimum 0, placed after the element's subtree and
//   earlier slices; the sliced element must declare `slicing`, the base's slicing may not be
//   changed (discriminators, order) and a slicing the base closes takes no new slice;
// - a renamed choice (`Observation.valueQuantity`) becomes the type slice
//   `Observation.value[x]:valueQuantity`, as R4 snapshots write it (inside a slice it narrows the
//   choice itself); an undeclared type slicing is closed and limits the choice's types;
// - extension slices take the extension definition's root documentation (short, definition);
//   their cardinality stays the profile's, as in the R4 snapshots; a type profile the resolver
//   does not know leaves the element with its base type, reported in `warnings`.
// Constraints merge: cardinality may only narrow, types only to a subset (with profiles and
// target profiles), bindings never weaken from required, invariants add up. A differential that
// breaks these rules is an error in the profile, reported with SnapshotError naming the element
// id. Checked against every R4 and IPS 2.0 profile in test/validation/snapshot.test.ts.
import type { ElementDefinition, ElementDefinitionType, StructureDefinition } from 'fhir/r4.js';

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export type Resolver = (url: string) => StructureDefinition | undefined;

export interface SnapshotOptions {
  /** what the snapshot was made without: type profiles that could not be resolved */
  warnings?: string[];
  /** urls whose snapshots are being generated (a base chain that loops is an error) */
  within?: string[];
}

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const LISTS = new Set(['constraint', 'mapping', 'condition', 'alias', 'code', 'example']);

function clone<T>(v: T): T {
  return structuredClone(v);
}

function capitalized(code: string): string {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

/** `a.b:s.c` → parent `a.b:s`, last `c`; slice names must not contain dots. */
function splitLast(id: string): [string, string] {
  const i = id.lastIndexOf('.');
  return i < 0 ? ['', id] : [id.slice(0, i), id.slice(i + 1)];
}

function maxNumber(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

class Builder {
  readonly elements: ElementDefinition[];
  private readonly resolve: Resolver;
  private readonly url: string;
  private readonly options: SnapshotOptions;
  /** elements whose slicing the base closes: no slices can be added to them */
  private readonly baseClosed: Set<string>;
  /** each element as it came from the base (or its type), before this differential: where a
   * new slice itself starts from, as in the reference generator (IPS's category:laboratory does
   * not take the type profile the differential puts on Observation.category) */
  private readonly pristine: Map<string, ElementDefinition>;

  constructor(elements: ElementDefinition[], resolve: Resolver, url: string, options: SnapshotOptions) {
    this.elements = elements;
    this.baseClosed = new Set(elements.filter((e) => e.slicing?.rules === 'closed').map((e) => e.id!));
    this.pristine = new Map(elements.map((e) => [e.id!, clone(e)]));
    this.resolve = resolve;
    this.url = url;
    this.options = options;
  }

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => e.id === id);
  }

  /** The index just past an element's subtree: its children and its slices with theirs. */
  private subtreeEnd(index: number): number {
    const id = this.elements[index].id!;
    let i = index + 1;
    while (i < this.elements.length && (this.elements[i].id!.startsWith(`${id}.`) || this.elements[i].id!.startsWith(`${id}:`))) i++;
    return i;
  }

  private structure(url: string): ElementDefinition[] {
    const sd = this.resolve(url);
    if (!sd) throw new SnapshotError(`${this.url}: cannot resolve ${url}`);
    return snapshotOf(sd, this.resolve, this.options);
  }

  /** A type profile's snapshot; one the server does not hold leaves the element with its base
   * type's definition, and a warning (as the reference generator does). */
  private typeProfile(url: string, at: string): ElementDefinition[] | undefined {
    const sd = this.resolve(url);
    if (sd) return snapshotOf(sd, this.resolve, this.options);
    const warning = `${this.url}: the type profile ${url} of ${at} is not known, so ${at} keeps its base type's definition`;
    if (!this.options.warnings?.includes(warning)) this.options.warnings?.push(warning);
    return undefined;
  }

  /** Copies an element's children in after it, unless it already has them. */
  private expandChildren(index: number): void {
    const parent = this.elements[index];
    const next = this.elements[index + 1];
    if (next?.id!.startsWith(`${parent.id}.`)) return;
    let source: ElementDefinition[];
    let fromId: string;
    let fromPath: string;
    const sliced = parent.sliceName ? this.indexOf(parent.id!.slice(0, parent.id!.length - parent.sliceName.length - 1)) : -1;
    if (sliced >= 0 && this.elements[sliced + 1]?.id!.startsWith(`${this.elements[sliced].id}.`)) {
      // a slice's children start from the constraints already on the sliced element's children
      // (IPS's Bundle.entry slices keep entry.fullUrl 1..1)
      const root = this.elements[sliced];
      const end = this.subtreeEnd(sliced);
      source = this.elements.slice(sliced + 1, end).filter((e) => !e.id!.slice(root.id!.length).startsWith(':'));
      fromId = root.id!;
      fromPath = root.path;
    } else if (parent.contentReference) {
      const ref = this.indexOf(parent.contentReference.slice(1));
      if (ref < 0) throw new SnapshotError(`${this.url}: ${parent.id} refers to ${parent.contentReference}, which is not in the snapshot`);
      source = this.elements.slice(ref + 1, this.subtreeEnd(ref)).filter((e) => !e.id!.slice(this.elements[ref].id!.length).startsWith(':'));
      fromId = this.elements[ref].id!;
      fromPath = this.elements[ref].path;
    } else {
      const types = parent.type ?? [];
      if (types.length !== 1) throw new SnapshotError(`${this.url}: cannot constrain inside ${parent.id}, which has ${types.length} types (restrict it to one first)`);
      const t = types[0];
      const core = t.code.includes(':') ? t.code : `${CORE}${t.code}`;
      const structure = (t.profile?.[0] ? this.typeProfile(t.profile[0], parent.id!) : undefined) ?? this.structure(core);
      source = structure.slice(1);
      fromId = structure[0].id!;
      fromPath = structure[0].path;
    }
    const copies = source.map((e) => ({ ...clone(e), id: `${parent.id}${e.id!.slice(fromId.length)}`, path: `${parent.path}${e.path.slice(fromPath.length)}` }));
    for (const c of copies) if (!this.pristine.has(c.id)) this.pristine.set(c.id, clone(c));
    this.elements.splice(index + 1, 0, ...copies);
  }

  /** The index of the element a differential id names, created (children, slices) if needed. */
  ensure(id: string): number {
    const found = this.indexOf(id);
    if (found >= 0) return found;
    const [parentId, last] = splitLast(id);
    if (!parentId) throw new SnapshotError(`${this.url}: ${id} is not an element of the base`);
    const parentIndex = this.ensure(parentId);
    const parent = this.elements[parentIndex];
    const colon = last.indexOf(':');
    if (colon < 0) {
      this.expandChildren(parentIndex);
      const i = this.indexOf(`${parent.id}.${last}`);
      if (i >= 0) return i;
      // a renamed choice: valueQuantity → value[x]:valueQuantity
      const choice = this.elements.find((e) => e.id!.startsWith(`${parent.id}.`) && e.id!.endsWith('[x]') && !e.id!.slice(parent.id!.length + 1).includes('.') && last.startsWith(e.id!.slice(parent.id!.length + 1, -3)));
      if (choice) {
        const type = last.slice(choice.id!.length - parent.id!.length - 4);
        const t = choice.type?.find((x) => capitalized(x.code) === type);
        if (t && parent.id!.includes(':')) {
          // inside a slice the R4 snapshots narrow the choice itself (bp's
          // component:SystolicBP.valueQuantity is component:SystolicBP.value[x] of type Quantity)
          choice.type = [clone(t)];
          return this.indexOf(choice.id!);
        }
        if (t) return this.ensure(`${choice.id}:${last}`);
      }
      throw new SnapshotError(`${this.url}: ${id} is not an element of the base`);
    }
    const name = last.slice(0, colon);
    const sliceName = last.slice(colon + 1);
    const rootIndex = this.ensure(`${parent.id}.${name}`);
    // expanding the parent may have brought the slice along (a slice of a sliced element's slice)
    const copied = this.indexOf(id);
    if (copied >= 0) return copied;
    const root = this.elements[rootIndex];
    if (name.endsWith('[x]')) {
      // type slices of a choice: one type each, starting at 0 like any slice; a slicing the
      // profile does not declare is closed (R4's renamed choices), limiting the choice to the
      // sliced types, while a declared open one keeps the other types
      const t = root.type?.find((x) => `${name.slice(0, -3)}${capitalized(x.code)}` === sliceName);
      if (!t) throw new SnapshotError(`${this.url}: ${id}: ${sliceName} is not a type of ${root.id}`);
      root.slicing ??= { discriminator: [{ type: 'type', path: '$this' }], ordered: false, rules: 'closed' };
      const slice: ElementDefinition = { ...clone(this.pristine.get(root.id!) ?? root), id: `${root.id}:${sliceName}`, sliceName, min: 0, type: [clone(t)] };
      delete slice.slicing;
      this.pristine.set(slice.id!, clone(slice));
      const at = this.subtreeEnd(rootIndex);
      this.elements.splice(at, 0, slice);
      if (root.slicing.rules === 'closed') {
        const sliced = this.elements.filter((e) => e.id!.startsWith(`${root.id}:`) && !e.id!.slice(root.id!.length).includes('.')).map((e) => e.type?.[0]?.code);
        root.type = root.type!.filter((x) => sliced.includes(x.code));
      }
      return at;
    }
    // extensions are always sliced by url, declared or not
    if (!root.slicing && /\.(modifierE|e)xtension$/.test(root.path)) root.slicing = { discriminator: [{ type: 'value', path: 'url' }], description: 'Extensions are always sliced by (at least) url', ordered: false, rules: 'open' };
    if (!root.slicing) throw new SnapshotError(`${this.url}: ${id} slices ${root.id}, which has no slicing`);
    if (this.baseClosed.has(root.id!)) throw new SnapshotError(`${this.url}: ${id}: the base closes the slicing of ${root.id}, so a profile on it cannot add a slice`);
    // each slice's own minimum starts at 0: the sliced element's minimum counts all slices together
    const slice: ElementDefinition = { ...clone(this.pristine.get(root.id!) ?? root), id: `${root.id}:${sliceName}`, sliceName, min: 0 };
    delete slice.slicing;
    this.pristine.set(slice.id!, clone(slice));
    const at = this.subtreeEnd(rootIndex);
    this.elements.splice(at, 0, slice);
    return at;
  }

  /** A type profile's root: its invariants apply; an extension definition's also documents the slice. */
  private fromTypeProfile(target: ElementDefinition, types: ElementDefinitionType[]): void {
    const url = types.length === 1 ? types[0].profile?.[0] : undefined;
    if (!url) return;
    // a resource profile's invariants hold on the resource, not on the element that holds it
    if (this.resolve(url)?.kind === 'resource') return;
    const structure = this.typeProfile(url, target.id!);
    if (!structure) return;
    const [root] = structure;
    // the invariants of a type profile (SimpleQuantity's sqty-1) hold on the element
    const keys = new Set((target.constraint ?? []).map((c) => c.key));
    const added = (root.constraint ?? []).filter((c) => !keys.has(c.key));
    if (added.length) target.constraint = [...(target.constraint ?? []), ...clone(added)];
    if (!target.sliceName || !/\.(modifierE|e)xtension$/.test(target.path)) return;
    for (const k of ['short', 'definition', 'comment', 'isModifier', 'isModifierReason'] as const) if (root[k] !== undefined) (target as unknown as Record<string, unknown>)[k] = clone(root[k]);
  }

  merge(target: ElementDefinition, diff: ElementDefinition): void {
    if (diff.type) {
      this.checkTypes(target, diff.type);
      this.fromTypeProfile(target, diff.type);
    }
    for (const [key, value] of Object.entries(diff) as [keyof ElementDefinition, unknown][]) {
      if (key === 'id' || key === 'path' || key === 'base') continue;
      if (key === 'min') {
        if ((value as number) < (target.min ?? 0)) throw new SnapshotError(`${this.url}: ${target.id} min ${value} is below the base's ${target.min}`);
        target.min = value as number;
      } else if (key === 'max') {
        if (maxNumber(value as string) > maxNumber(target.max)) throw new SnapshotError(`${this.url}: ${target.id} max ${value} is above the base's ${target.max}`);
        target.max = value as string;
      } else if (key === 'binding') {
        const b = value as NonNullable<ElementDefinition['binding']>;
        if (target.binding?.strength === 'required' && b.strength !== 'required') throw new SnapshotError(`${this.url}: ${target.id} weakens a required binding`);
        target.binding = clone(b);
      } else if (key === 'constraint') {
        const added = (value as NonNullable<ElementDefinition['constraint']>).map((c) => ({ ...clone(c), source: c.source ?? this.url }));
        target.constraint = [...(target.constraint ?? []).filter((c) => !added.some((a) => a.key === c.key)), ...added];
      } else if (LISTS.has(key)) {
        const list = (target as unknown as Record<string, unknown[]>)[key] ?? [];
        const json = new Set(list.map((x) => JSON.stringify(x)));
        (target as unknown as Record<string, unknown>)[key] = [...list, ...(value as unknown[]).filter((x) => !json.has(JSON.stringify(x))).map(clone)];
      } else if (key === 'slicing') {
        this.checkSlicing(target, value as NonNullable<ElementDefinition['slicing']>);
        target.slicing = { ...target.slicing, ...clone(value as ElementDefinition['slicing']) } as ElementDefinition['slicing'];
      } else {
        (target as unknown as Record<string, unknown>)[key] = clone(value);
      }
    }
  }

  /** A profile may restate its base's slicing, not change it: the same discriminators, the
   * same order (profiling.html#slicing; the reference generator refuses a change likewise). */
  private checkSlicing(target: ElementDefinition, diff: NonNullable<ElementDefinition['slicing']>): void {
    const base = target.slicing;
    if (!base) return;
    const summary = (s: NonNullable<ElementDefinition['slicing']>) => `${(s.discriminator ?? []).map((d) => `${d.type}:${d.path}`).join(', ')} (${s.ordered ?? ''}/${s.rules ?? ''})`;
    const d = diff.discriminator ?? [];
    const b = base.discriminator ?? [];
    if (d.length && b.length && (d.length !== b.length || d.some((x, i) => x.type !== b[i].type || x.path !== b[i].path))) {
      throw new SnapshotError(`${this.url}: ${target.id}: the slicing ${summary(diff)} changes the base's discriminators ${summary(base)}`);
    }
    if (diff.ordered !== undefined && base.ordered !== undefined && diff.ordered !== base.ordered) {
      throw new SnapshotError(`${this.url}: ${target.id}: the slicing ${summary(diff)} changes the base's order ${summary(base)}`);
    }
  }

  private checkTypes(target: ElementDefinition, types: ElementDefinitionType[]): void {
    const allowed = new Set((target.type ?? []).map((t) => t.code));
    // Resource-typed elements (contained, Bundle.entry.resource) may name any resource type
    if (allowed.has('Resource')) return;
    // the value of a primitive (System.String) is declared with its FHIR type in differentials
    if ([...allowed].some((c) => c.startsWith('http://hl7.org/fhirpath/System.'))) return;
    for (const t of types) if (!allowed.has(t.code)) throw new SnapshotError(`${this.url}: ${target.id} cannot take type ${t.code}; the base allows ${[...allowed].join(', ')}`);
  }
}

/** A definition's snapshot: its own, or generated (profiles on differential-only profiles). */
function snapshotOf(sd: StructureDefinition, resolve: Resolver, options: SnapshotOptions): ElementDefinition[] {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  return generateSnapshot(sd, resolve, options).snapshot!.element;
}

/** The profile with its snapshot generated from the base's snapshot and its differential. */
export function generateSnapshot(profile: StructureDefinition, resolve: Resolver, options: SnapshotOptions = {}): StructureDefinition {
  if (!profile.baseDefinition) {
    if (profile.snapshot) return profile;
    throw new SnapshotError(`${profile.url}: no baseDefinition and no snapshot`);
  }
  const within = options.within ?? [];
  if (within.includes(profile.url)) throw new SnapshotError(`${profile.url}: its definition depends on itself (${[...within, profile.url].join(' → ')})`);
  const inner: SnapshotOptions = { ...options, within: [...within, profile.url] };
  const base = resolve(profile.baseDefinition.split('|')[0]);
  if (!base) throw new SnapshotError(`${profile.url}: cannot resolve the base ${profile.baseDefinition}`);
  if (base.type !== profile.type && base.type !== undefined && profile.type !== undefined) {
    throw new SnapshotError(`${profile.url}: a profile of ${profile.type} cannot derive from ${base.url}, a definition of ${base.type}`);
  }
  const baseElements = snapshotOf(base, resolve, inner);
  const builder = new Builder(clone(baseElements), resolve, profile.url, inner);
  for (const diff of profile.differential?.element ?? []) {
    const id = diff.id ?? (diff.sliceName ? `${diff.path}:${diff.sliceName}` : diff.path);
    const index = builder.ensure(id);
    builder.merge(builder.elements[index], diff);
  }
  const { snapshot: _old, ...rest } = profile;
  void _old;
  return { ...rest, snapshot: { element: builder.elements } };
}
