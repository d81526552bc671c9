// StructureDefinitions as the validator reads them: each snapshot compiled once into a tree of
// element nodes (children, slices, types, fixed/pattern values, bindings, constraints), cached by
// canonical url. Definitions come from the R4 package (base types, standard extensions and
// profiles, read on first use), from the HL7 extensions pack (the global extensions), from
// StructureDefinitions stored on the server, and from any other source registered with `add`
// (the implementation guide, a CLI --ig package).
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { packageIndex, readResource } from '../terminology/package-index.ts';
import { generateSnapshot, SnapshotError } from './snapshot.ts';
import { compactPackaged } from './compact-definitions.ts';

export const CORE = 'http://hl7.org/fhir/StructureDefinition/';

export interface TypeRef {
  code: string;
  profiles?: string[];
  targetProfiles?: string[];
}

export interface Constraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression?: string;
  /** what invariants.ts works out once for this constraint (read only there) */
  plan?: unknown;
}

export interface Slicing {
  discriminator: { type: string; path: string }[];
  rules: 'open' | 'closed' | 'openAtEnd';
  ordered: boolean;
}

export interface ElementNode {
  id: string;
  path: string;
  /** JSON name: the last path segment without [x] */
  name: string;
  /** `_name`: the JSON name of the primitive's extension twin */
  extName: string;
  min: number;
  max: number;
  /** whether the JSON property is an array (the base element repeats) */
  array: boolean;
  types: TypeRef[];
  choice: boolean;
  /** '#Questionnaire.item': children are those of the referenced element */
  contentReference?: string;
  fixed?: unknown;
  pattern?: unknown;
  binding?: { strength: string; valueSet?: string };
  constraints: Constraint[];
  /** the constraints the validator evaluates (not those checked natively), picked on first use */
  invariants?: Constraint[];
  maxLength?: number;
  minValue?: number | string;
  maxValue?: number | string;
  modifier: boolean;
  sliceName?: string;
  slicing?: Slicing;
  children: ElementNode[];
  slices: ElementNode[];
  /** JSON property name → child definition, type and (choice elements) type slice; built on first use */
  props?: Map<string, Prop>;
  /** by position in `children`: 1 for those checked when absent (required, sliced); built with props */
  checkedAbsent?: Uint8Array;
  /** by position in `children`: the walk's mark of the children an object holds (validator.ts) */
  present?: Uint32Array;
}

export interface Prop {
  node: ElementNode;
  /** the node's position in its parent's children */
  index: number;
  type: string;
  /** a slice of a choice element by type (value[x]:valueQuantity) */
  slice?: ElementNode;
}

export interface CompiledProfile {
  url: string;
  name: string;
  type: string;
  kind: string;
  derivation?: string;
  baseDefinition?: string;
  abstract: boolean;
  /** extension contexts (R4 StructureDefinition.context) */
  context?: { type: string; expression: string }[];
  root: ElementNode;
  /** nodes by element id, for contentReference and discriminator lookups */
  byId: Map<string, ElementNode>;
}

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

function typeCode(t: NonNullable<ElementDefinition['type']>[number]): string {
  if (!t.code.startsWith('http://hl7.org/fhirpath/System.')) return t.code;
  // Element.id, Extension.url, Resource.id …: FHIRPath system types, with the FHIR type in an extension
  const ext = t.extension?.find((e) => e.url === FHIR_TYPE_EXT);
  return ext?.valueUrl ?? (ext as { valueUri?: string } | undefined)?.valueUri ?? 'string';
}

function prefixed(e: ElementDefinition, prefix: 'fixed' | 'pattern' | 'minValue' | 'maxValue'): unknown {
  for (const k of Object.keys(e)) if (k.startsWith(prefix) && k.length > prefix.length && /[A-Z]/.test(k[prefix.length])) return (e as unknown as Record<string, unknown>)[k];
  return undefined;
}

/** An element id's segments (`Patient.identifier:ssn.system`); slice names with dots are not
 * used in practice, so plain splitting is enough. */
function segments(id: string): string[] {
  return id.split('.');
}

function node(e: ElementDefinition, id: string): ElementNode {
  const last = e.path.slice(e.path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const baseMax = e.base?.max ?? e.max ?? '*';
  return {
    id,
    path: e.path,
    name: choice ? last.slice(0, -3) : last,
    extName: `_${choice ? last.slice(0, -3) : last}`,
    min: e.min ?? 0,
    max: e.max === undefined || e.max === '*' ? Infinity : Number(e.max),
    array: baseMax !== '1' && baseMax !== '0',
    types: (e.type ?? []).map((t) => ({
      code: typeCode(t),
      ...(t.profile?.length ? { profiles: t.profile } : {}),
      ...(t.targetProfile?.length ? { targetProfiles: t.targetProfile } : {}),
    })),
    choice,
    ...(e.contentReference ? { contentReference: e.contentReference } : {}),
    ...(prefixed(e, 'fixed') !== undefined ? { fixed: prefixed(e, 'fixed') } : {}),
    ...(prefixed(e, 'pattern') !== undefined ? { pattern: prefixed(e, 'pattern') } : {}),
    ...(e.binding ? { binding: { strength: e.binding.strength, valueSet: e.binding.valueSet } } : {}),
    constraints: (e.constraint ?? []).map((c) => ({ key: c.key, severity: c.severity, human: c.human, expression: c.expression })),
    ...(e.maxLength !== undefined ? { maxLength: e.maxLength } : {}),
    ...(prefixed(e, 'minValue') !== undefined ? { minValue: prefixed(e, 'minValue') as number | string } : {}),
    ...(prefixed(e, 'maxValue') !== undefined ? { maxValue: prefixed(e, 'maxValue') as number | string } : {}),
    modifier: e.isModifier === true,
    ...(e.sliceName ? { sliceName: e.sliceName } : {}),
    ...(e.slicing
      ? { slicing: { discriminator: (e.slicing.discriminator ?? []).map((d) => ({ type: d.type, path: d.path })), rules: e.slicing.rules, ordered: e.slicing.ordered === true } }
      : {}),
    children: [],
    slices: [],
  };
}

/** Compiles a StructureDefinition's snapshot into an element tree. */
export function compileProfile(sd: StructureDefinition): CompiledProfile {
  const elements = sd.snapshot?.element;
  if (!elements?.length) throw new Error(`StructureDefinition ${sd.url} has no snapshot`);
  const byId = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const e of elements) {
    const id = e.id ?? (e.sliceName ? `${e.path}:${e.sliceName}` : e.path);
    const n = node(e, id);
    byId.set(id, n);
    const segs = segments(id);
    if (segs.length === 1 && !root) {
      root = n;
      continue;
    }
    const last = segs[segs.length - 1];
    const colon = last.indexOf(':');
    if (colon >= 0) {
      // a slice (or re-slice name/sub): attached to the element it slices
      const sliceOf = [...segs.slice(0, -1), last.slice(0, last.includes('/') ? last.lastIndexOf('/') : colon)].join('.');
      const base = byId.get(sliceOf) ?? byId.get([...segs.slice(0, -1), last.slice(0, colon)].join('.'));
      if (base) {
        base.slices.push(n);
        continue;
      }
    }
    const parent = byId.get(segs.slice(0, -1).join('.'));
    (parent ?? root)?.children.push(n);
  }
  if (!root) throw new Error(`StructureDefinition ${sd.url} has no root element`);
  // Resource.id is a FHIRPath System.String in the R4 snapshots (its fhir-type extension says
  // string); in a resource it is of type id
  if (sd.kind === 'resource') {
    const id = root.children.find((c) => c.name === 'id');
    if (id) id.types = [{ code: 'id' }];
  }
  return {
    url: sd.url,
    name: sd.name,
    type: sd.type,
    kind: sd.kind,
    derivation: sd.derivation,
    baseDefinition: sd.baseDefinition,
    abstract: sd.abstract === true,
    ...(sd.context ? { context: sd.context.map((c) => ({ type: c.type, expression: c.expression })) } : {}),
    root,
    byId,
  };
}

/** Why a StructureDefinition cannot be used to validate. */
export interface Unusable {
  url: string;
  reason: string;
}

/** Every StructureDefinition the validator can use, compiled on first use. Registered
 * definitions may come without a snapshot (differentials as profile authors publish them): their
 * snapshots are generated on first use, bases first, and generated again when any registered
 * definition changes (a base that arrives later, or a changed profile underneath). */
export class ProfileRegistry {
  private readonly compiled = new Map<string, CompiledProfile | null>();
  private readonly extra = new Map<string, StructureDefinition>();
  private readonly types = new Map<string, CompiledProfile | null>();
  /** registered definitions with their generated snapshots, or why there is none */
  private readonly generated = new Map<string, { sd: StructureDefinition; warnings: string[] } | Unusable>();
  /** urls whose snapshots are being generated */
  private readonly building = new Set<string>();

  /** Registers (or replaces) a StructureDefinition; `null` forgets the url. */
  add(url: string, sd: StructureDefinition | null): void {
    if (sd) this.extra.set(url, sd);
    else this.extra.delete(url);
    this.compiled.delete(url);
    // generated snapshots may build on the changed definition
    for (const u of this.generated.keys()) this.compiled.delete(u);
    this.generated.clear();
    this.types.clear();
  }

  /** Whether a url is one of the R4 package's own definitions (base types, R4 profiles). */
  isR4(url: string): boolean {
    return packageIndex().structureDefinitions[url.split('|')[0]] !== undefined;
  }

  /** The definition of a url as registered (or in the R4 package), with or without snapshot. */
  definition(url: string): StructureDefinition | undefined {
    const [u] = url.split('|');
    const own = this.extra.get(u);
    if (own) return own;
    const file = this.packageFile(u);
    return file ? readResource<StructureDefinition>(file) : undefined;
  }

  /** The file of a url's definition in the R4 package or the HL7 extensions pack. */
  private packageFile(url: string): string | undefined {
    const index = packageIndex();
    return index.structureDefinitions[url] ?? index.extensionPack[url];
  }

  /** The definition with a snapshot (generated when it has none); a SnapshotError says why
   * there can be none. */
  snapshot(url: string): { sd: StructureDefinition; warnings: string[] } {
    const [u] = url.split('|');
    const done = this.generated.get(u);
    if (done) {
      if ('reason' in done) throw new SnapshotError(done.reason);
      return done;
    }
    const sd = this.definition(u);
    if (!sd) throw new SnapshotError(`${u} is not known to this server`);
    if (sd.snapshot?.element?.length) return { sd, warnings: [] };
    // a definition that needs itself (as its base, or as a type profile inside it)
    if (this.building.has(u)) throw new SnapshotError(`${u}: its definition depends on itself (${[...this.building, u].join(' → ')})`);
    const warnings: string[] = [];
    this.building.add(u);
    try {
      const out = generateSnapshot(sd, (x) => this.resolveWithSnapshot(x, warnings), { warnings });
      const hit = { sd: out, warnings };
      this.generated.set(u, hit);
      return hit;
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      this.generated.set(u, { url: u, reason: err.message });
      throw err;
    } finally {
      this.building.delete(u);
    }
  }

  /** A snapshot generated from a definition's differential (whether or not it has a snapshot
   * of its own, and whether or not it is registered), its bases resolved here. */
  generate(sd: StructureDefinition): { sd: StructureDefinition; warnings: string[] } {
    const warnings: string[] = [];
    const { snapshot: _own, ...differential } = sd;
    void _own;
    const out = generateSnapshot(differential, (x) => (x.split('|')[0] === sd.url ? undefined : this.resolveWithSnapshot(x, warnings)), { warnings });
    return { sd: out, warnings };
  }

  /** For generation: a definition with its snapshot, undefined when unknown. */
  private resolveWithSnapshot(url: string, warnings: string[]): StructureDefinition | undefined {
    if (!this.definition(url)) return undefined;
    const hit = this.snapshot(url);
    for (const w of hit.warnings) if (!warnings.includes(w)) warnings.push(w);
    return hit.sd;
  }

  /** What the generated snapshot of a usable definition was made without (type profiles not
   * held), empty when nothing is missing. */
  warnings(url: string): string[] {
    const g = this.generated.get(url.split('|')[0]);
    return g && !('reason' in g) ? g.warnings : [];
  }

  /** Why a url cannot be used to validate (unknown, or its snapshot cannot be made), or
   * undefined when it can. */
  problem(url: string): string | undefined {
    if (this.get(url)) return undefined;
    try {
      this.snapshot(url);
      return `${url.split('|')[0]} has no usable snapshot`;
    } catch (err) {
      if (err instanceof SnapshotError) return err.message;
      throw err;
    }
  }

  /** The compiled profile of a canonical url, or undefined when unknown or unusable. */
  get(url: string): CompiledProfile | undefined {
    const direct = this.compiled.get(url);
    if (direct) return direct;
    const [u] = url.split('|');
    const hit = this.compiled.get(u);
    if (hit !== undefined) return hit ?? undefined;
    let c: CompiledProfile | null = null;
    // a package's own definition (published with its snapshot) is compiled from its compact
    // form; registered ones through their (generated) snapshots. snapshot() says when unknown.
    const packaged = this.extra.has(u) ? undefined : this.packageFile(u);
    try {
      c = compileProfile(packaged ? compactPackaged(packaged) : this.snapshot(u).sd);
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
    }
    this.compiled.set(u, c);
    return c ?? undefined;
  }

  /** The base definition of a type (`Patient`, `HumanName`, `string`); asked for on every
   * element, hence its own cache. */
  type(code: string): CompiledProfile | undefined {
    let t = this.types.get(code);
    if (t === undefined) {
      t = this.get(code.includes('/') ? code : CORE + code) ?? null;
      this.types.set(code, t);
    }
    return t ?? undefined;
  }

  /** urls of registered (non-package) StructureDefinitions */
  registered(): string[] {
    return [...this.extra.keys()];
  }

  /** The registered definitions that cannot be used, each with the reason (generating the
   * snapshots of those without one). */
  unusable(): Unusable[] {
    const out: Unusable[] = [];
    for (const url of this.extra.keys()) {
      const reason = this.problem(url);
      if (reason) out.push({ url, reason });
    }
    return out;
  }
}
