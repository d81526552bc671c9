// The StructureDefinition validator: walks a resource alongside the compiled snapshot of its base
// type and of every profile it is checked against (declared meta.profile plus requested ones),
// checking JSON structure and primitive formats, cardinality, fixed/pattern values, lengths and
// ranges, references' target types, extensions, slicing, terminology bindings and invariants.
// Issues carry FHIRPath locations like the HL7 reference validator's (`Patient.identifier[2]`).
import type { Coding } from 'fhir/r4.js';
import type { IssueInput } from '../fhir/errors.ts';
import type { BindingChecker, Membership } from './bindings.ts';
import { evaluateConstraint, NATIVE_INVARIANTS, presetVerdict, UNEVALUATED, uncitedContained } from './invariants.ts';
import { compareValue, PRIMITIVE_TYPES, primitiveError } from './primitives.ts';
import { CORE, type CompiledProfile, type Constraint, type ElementNode, type ProfileRegistry, type Prop } from './profiles.ts';
import { assignSlices, coreType, matchesPattern } from './slicing.ts';
import { bundleIssues } from './bundle.ts';
import { datatypeIssues, primitiveIssues } from './datatypes.ts';
import { questionnaireIssues, responseIssues } from './questionnaire.ts';
import { checkStructureDefinition } from './structure-definition.ts';
import { jsonEqual } from '../fhir/json.ts';
import { resourceAddress, withoutVersion } from '../fhir/reference.ts';

type Json = Record<string, unknown>;

export interface ValidateOptions {
  /** profiles to check besides the declared meta.profile */
  profiles?: string[];
  /** check the profiles the resource declares in meta.profile (default true) */
  declaredProfiles?: boolean;
  /** a StructureDefinition is also checked as a profile ($validate, the CLI): whether its
   * differential applies to its base, agrees with its snapshot, slices soundly. Not on write,
   * where a profile may arrive before its base. */
  definitions?: boolean;
  /** an extension the validator cannot resolve, outside the domains any validator tolerates:
   * an error (the HL7 reference validator's verdict, the default), a warning, or accepted
   * silently (a server's write policy may choose to store extensions it does not know) */
  unknownExtensions?: UnknownExtensions;
}

export type UnknownExtensions = 'error' | 'warning' | 'accept';

interface Run {
  issues: IssueInput[];
  seen: Set<string>;
  /** %resource: the resource being walked; %rootResource: the outermost container */
  resource: unknown;
  rootResource: unknown;
  /** where the current resource starts in `path`s (Bundle.entry[0].resource) */
  resourcePath: string;
  /** the innermost Bundle being walked, for resolving references between its entries */
  bundle?: Json;
  /** its entries by the references that may name them, made on the first look-up (EntryIndex) */
  bundleIndex?: EntryIndex;
  depth: number;
  unknownExtensions: UnknownExtensions;
  /** the type of the element whose properties are being walked (HumanName, string, Extension):
   * what an extension's context is judged on besides its path */
  host: string;
  /** the primitive whose `_` twin is being walked: its definition paths (Patient.name.given in a
   * profile that expands name, HumanName.given on its type) and its type */
  primitive?: { paths: string[]; type: string };
  /** the url of the extension whose nested extensions are being walked */
  parentExtension?: string;
}

const MAX_ISSUES = 500;
/** the last number element() marked the children an object holds with (ElementNode.present);
 * one counter for every Validator of the thread, as they may share compiled definitions */
let marks = 0;
const NONE: readonly unknown[] = [];
const MAX_DEPTH = 64;
const EXT_BASE = new Set(['Element', 'Base']);

/** Contexts the reference validator adds to three R4 extensions whose published contexts R4's
 * own definitions do not keep (its fixContexts): fhir-type and regex on ElementDefinition.type
 * (FHIR-13328), normative-version wherever a definition may carry it. */
const CONTEXT_CORRECTIONS: Record<string, { type: string; expression: string }[]> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': [{ type: 'element', expression: 'ElementDefinition.type' }],
  'http://hl7.org/fhir/StructureDefinition/regex': [{ type: 'element', expression: 'ElementDefinition.type' }],
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version': [{ type: 'element', expression: 'Element' }],
};

/** The constraints of a node the validator evaluates: not those the walk checks natively, nor
 * those whose R4 expressions cannot be evaluated faithfully. */
function invariantsOf(node: ElementNode): Constraint[] {
  return (node.invariants ??= node.constraints.filter((c) => !NATIVE_INVARIANTS.has(c.key) && !(c.key in UNEVALUATED)));
}

/** A Bundle's entries by what a reference may name them by: the fullUrl, Type/id of the resource,
 * or a tail of the fullUrl after a '/' (`Patient/1` names https://x/fhir/Patient/1). The first
 * entry with a resource that matches in any of the three ways, as a search of the entries in order
 * finds it; made once per Bundle walked instead of a search (and a string per entry) per reference. */
class EntryIndex {
  private readonly entries: Json[];
  private readonly byFullUrl = new Map<string, number>();
  private readonly byLocal = new Map<string, number>();
  private readonly byTail = new Map<string, number>();

  constructor(entries: Json[]) {
    this.entries = entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const res = e?.resource as Json | undefined;
      if (!res) continue;
      const local = `${String(res.resourceType)}/${String(res.id)}`;
      if (!this.byLocal.has(local)) this.byLocal.set(local, i);
      const url = e.fullUrl;
      if (typeof url !== 'string') continue;
      if (!this.byFullUrl.has(url)) this.byFullUrl.set(url, i);
      for (let p = url.indexOf('/'); p >= 0; p = url.indexOf('/', p + 1)) {
        const tail = url.slice(p + 1);
        if (!this.byTail.has(tail)) this.byTail.set(tail, i);
      }
    }
  }

  resolve(ref: string): unknown {
    let first = Infinity;
    for (const m of [this.byFullUrl, this.byLocal, this.byTail]) {
      const i = m.get(ref);
      if (i !== undefined && i < first) first = i;
    }
    return first === Infinity ? undefined : (this.entries[first] as Json).resource;
  }
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

export class Validator {
  readonly profiles: ProfileRegistry;
  private readonly bindings: BindingChecker;
  private readonly resourceTypes: ReadonlySet<string>;

  constructor(profiles: ProfileRegistry, bindings: BindingChecker, resourceTypes: Iterable<string>) {
    this.profiles = profiles;
    this.bindings = bindings;
    this.resourceTypes = new Set(resourceTypes);
  }

  /** All issues (errors, warnings, information) of a resource. */
  validate(resource: unknown, options: ValidateOptions = {}): IssueInput[] {
    const run: Run = { issues: [], seen: new Set(), resource, rootResource: resource, resourcePath: '', depth: 0, unknownExtensions: options.unknownExtensions ?? 'error', host: '' };
    const type = (resource as Json | null)?.resourceType;
    this.resource(resource, typeof type === 'string' ? type : 'Resource', run, options.profiles ?? [], options.declaredProfiles !== false);
    // a profile: whether its differential, snapshot and slicing hold together
    if (type === 'StructureDefinition' && options.definitions) for (const i of checkStructureDefinition(resource, this.profiles)) this.issue(run, i.severity as 'error' | 'warning', i.code, i.expression![0], i.diagnostics!);
    return run.issues;
  }

  private issue(run: Run, severity: 'error' | 'warning' | 'information', code: IssueInput['code'], path: string, message: string): void {
    // past the cap only errors are kept (a large Bundle's warnings must not hide its errors),
    // up to a hard limit
    if (run.issues.length >= MAX_ISSUES && (severity !== 'error' || run.issues.length >= MAX_ISSUES * 10)) return;
    const key = `${severity}|${path}|${message}`;
    if (run.seen.has(key)) return;
    run.seen.add(key);
    run.issues.push({ severity, code, diagnostics: message, expression: [path] });
  }

  private resource(r: unknown, path: string, run: Run, profiles: string[], declared: boolean): void {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      this.issue(run, 'error', 'structure', path, 'A resource must be a JSON object');
      return;
    }
    const type = (r as Json).resourceType;
    if (typeof type !== 'string' || !this.resourceTypes.has(type)) {
      this.issue(run, 'error', 'structure', path, typeof type === 'string' ? `Unknown resource type '${type.slice(0, 64)}'` : 'The resource has no resourceType');
      return;
    }
    const base = this.profiles.type(type);
    if (!base) {
      this.issue(run, 'error', 'not-supported', path, `No definition for the resource type ${type}`);
      return;
    }
    const outer = { resource: run.resource, depth: run.depth, resourcePath: run.resourcePath, bundle: run.bundle, bundleIndex: run.bundleIndex };
    run.resource = r;
    run.resourcePath = path;
    if (type === 'Bundle') {
      run.bundle = r as Json;
      run.bundleIndex = undefined;
    }
    run.depth++;
    if (run.depth > MAX_DEPTH) {
      this.issue(run, 'error', 'too-costly', path, 'Resources are nested too deeply');
    } else {
      this.element(r as Json, base.root, base, type, path, run, true);
      if (type === 'Bundle') for (const i of bundleIssues(r as Json, this.resourceTypes)) this.issue(run, i.severity, i.code, `${path}${i.at}`, i.message);
      if (type === 'Questionnaire') for (const i of questionnaireIssues(r as Json)) this.issue(run, i.severity, i.code, `${path}${i.at}`, i.message);
      if (type === 'QuestionnaireResponse') {
        const q = this.questionnaireOf(r as Json, run);
        if (q) for (const i of responseIssues(r as Json, q)) this.issue(run, i.severity, i.code, `${path}${i.at}`, i.message);
      }
      for (const i of uncitedContained(r as Json)) {
        this.issue(run, 'error', 'invariant', `${path}.contained[${i}]`, "Constraint failed: dom-3: 'If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource'");
      }
      const urls = [...profiles];
      if (declared) {
        const meta = (r as Json).meta as Json | undefined;
        if (Array.isArray(meta?.profile)) for (const p of meta.profile) if (typeof p === 'string') urls.push(p);
      }
      for (const url of new Set(urls)) this.againstProfile(r as Json, type, url, path, run);
    }
    run.resource = outer.resource;
    run.depth = outer.depth;
    run.resourcePath = outer.resourcePath;
    run.bundle = outer.bundle;
    run.bundleIndex = outer.bundleIndex;
  }

  private againstProfile(r: Json, type: string, url: string, path: string, run: Run): void {
    if (url === CORE + type) return;
    const p = this.profiles.get(url);
    if (!p) {
      // held but unusable (a base not held, a differential that breaks its base): an error, as
      // nothing can be said about conformance to it
      const reason = this.profiles.definition(url) ? this.profiles.problem(url) : undefined;
      if (reason) this.issue(run, 'error', 'processing', path, `Profile '${url.slice(0, 200)}' cannot be used to check this resource: ${reason}`);
      else this.issue(run, 'warning', 'not-found', path, `Profile reference '${url.slice(0, 200)}' has not been checked because it is unknown`);
      return;
    }
    if (p.type !== type) {
      this.issue(run, 'error', 'invalid', path, `The profile ${url} is for ${p.type} resources, not ${type}`);
      return;
    }
    // what could not be checked: type profiles the generated snapshot was made without
    for (const w of this.profiles.warnings(url)) this.issue(run, 'warning', 'not-found', path, `Not checked in full: ${w}`);
    this.element(r, p.root, p, type, path, run, true);
  }

  /** The node whose children apply to a value: the element's own (backbone elements, profiled
   * datatypes), a contentReference's, or else the base definition of the value's type. */
  private owner(node: ElementNode, profile: CompiledProfile, type: string): ElementNode | undefined {
    if (node.children.length) return node;
    if (node.contentReference) {
      const ref = node.contentReference.slice(node.contentReference.indexOf('#') + 1);
      const hit = profile.byId.get(ref) ?? this.profiles.type(ref.split('.')[0])?.byId.get(ref);
      if (hit?.children.length) return hit;
    }
    return this.profiles.type(type)?.root;
  }

  /** The JSON property name → (child definition, type) table of a node, built once. */
  private props(owner: ElementNode): Map<string, Prop> {
    if (owner.props) return owner.props;
    const map = new Map<string, Prop>();
    owner.children.forEach((c, index) => {
      if (c.choice) {
        for (const t of c.types) {
          const key = c.name + cap(t.code);
          const slice = c.slices.find((s) => s.sliceName === key);
          map.set(key, { node: c, index, type: t.code, ...(slice ? { slice } : {}) });
        }
      } else {
        map.set(c.name, { node: c, index, type: c.types[0]?.code ?? (c.contentReference ? 'BackboneElement' : 'Element') });
      }
    });
    // the children checked when absent too: required ones and sliced ones
    owner.checkedAbsent = Uint8Array.from(owner.children, (c) => (c.min > 0 || c.slices.length ? 1 : 0));
    owner.present = new Uint32Array(owner.children.length);
    owner.props = map;
    return map;
  }

  /** Validates the properties of one JSON object (a resource or a complex element). */
  private element(obj: Json, node: ElementNode, profile: CompiledProfile, type: string, path: string, run: Run, isResource: boolean): void {
    const owner = this.owner(node, profile, type);
    if (!owner) {
      this.issue(run, 'error', 'not-supported', path, `No definition for the type ${type}`);
      return;
    }
    const props = this.props(owner);
    const keys = Object.keys(obj);
    if (keys.length === 0 || (keys.length === 1 && keys[0] === 'id' && !isResource)) {
      this.issue(run, 'error', 'invariant', path, 'All FHIR elements must have a @value or children (ele-1)');
    }
    // the children to walk, in definition order: those present and those checked when absent.
    // Those present are marked with a number of this call's own in the owner's marks (no list
    // made, sorted and searched per object); the marks are read before the walk goes deeper,
    // where a nested object of the same type marks with its own number.
    const present = owner.present!;
    const mark = (marks = (marks + 1) >>> 0 || 1);
    // whether any primitive here has its `_` twin: most objects have none, and then no child
    // looks one up (a keyed miss on objects of many shapes is one of the walk's dearest reads)
    let twins = false;
    for (const key of keys) {
      if (key === 'resourceType' && isResource) continue;
      const plain = key.charCodeAt(0) === 95 ? key.slice(1) : key;
      if (plain !== key) twins = true;
      const p = props.get(plain);
      if (p) present[p.index] = mark;
      if (!p) {
        this.issue(run, 'error', 'structure', `${path}.${key}`, `Unrecognized property '${key.slice(0, 64)}'`);
      } else if (key !== plain && !PRIMITIVE_TYPES.has(p.type)) {
        this.issue(run, 'error', 'structure', `${path}.${key}`, `'${key}' is only allowed for primitive elements`);
      }
    }
    const outerHost = run.host;
    run.host = type;
    // definition order (issues come out in it)
    const absent = owner.checkedAbsent!;
    const children = owner.children;
    let visit: number[] | undefined;
    for (let i = 0; i < children.length; i++) if (present[i] === mark || absent[i] === 1) (visit ??= []).push(i);
    if (visit) for (const i of visit) this.children(obj, children[i], props, profile, path, run, twins);
    run.host = outerHost;
    // invariants of this element and, for complex types, of the type itself
    for (const c of invariantsOf(node)) this.invariant(c, node, type, obj, path, run, keys);
    // a contentReference (Questionnaire.item.item) brings the referenced element's invariants
    if (owner !== node && node.contentReference) for (const c of invariantsOf(owner)) this.invariant(c, owner, type, obj, path, run, keys);
    const typeRoot = isResource ? undefined : this.profiles.type(type)?.root;
    if (typeRoot && typeRoot !== node) for (const c of invariantsOf(typeRoot)) this.invariant(c, node, type, obj, path, run, keys);
  }

  /** `keys`: the object's own keys, when `data` is an object whose keys element() listed. */
  private invariant(c: Constraint, node: ElementNode, type: string, data: unknown, path: string, run: Run, keys?: readonly string[]): void {
    // narrative is best practice for resources that stand alone, not for contained ones
    if (c.key === 'dom-6' && run.resource !== run.rootResource) return;
    // most invariants test elements the input does not have: answered without a path or variables
    let verdict = presetVerdict(c, data, keys);
    if (verdict === undefined) {
      const base = node.choice ? node.path.slice(0, -3) + cap(type) : node.path;
      verdict = evaluateConstraint(c, base, data, { resource: run.resource, rootResource: run.rootResource, type });
    }
    if (verdict === 'fail') {
      this.issue(run, c.severity, 'invariant', path, `Constraint failed: ${c.key}: '${c.human}'`);
    }
  }

  /** The repetitions of one child definition in `obj`: JSON shape, cardinality, slices, values. */
  private children(obj: Json, def: ElementNode, props: Map<string, Prop>, profile: CompiledProfile, path: string, run: Run, twins: boolean): void {
    if (!def.choice && !def.slices.length) {
      this.plainChildren(obj, def, props, profile, path, run, twins);
      return;
    }
    let keys: string[];
    if (def.choice) {
      keys = [];
      for (const k in obj) {
        const plain = k.charCodeAt(0) === 95 ? k.slice(1) : k;
        if (props.get(plain)?.node === def && !keys.includes(plain)) keys.push(plain);
      }
    } else if (def.name in obj || def.extName in obj) keys = [def.name];
    // the common case: an optional element that is absent
    else if (def.min === 0 && !def.slices.length) return;
    else keys = [];
    if (keys.length === 0 && def.min === 0 && !def.slices.length) return;
    if (def.choice && keys.length > 1) this.issue(run, 'error', 'structure', `${path}.${keys[1]}`, `Only one of ${keys.join(', ')} is allowed (${def.name}[x])`);
    const items: { value: unknown; ext: unknown; key: string; type: string; path: string }[] = [];
    for (const key of keys) {
      const type = props.get(key)!.type;
      const value = obj[key];
      const ext = obj[def.choice ? `_${key}` : def.extName];
      const where = `${path}.${key}`;
      if (def.array) {
        if ((value !== undefined && !Array.isArray(value)) || (ext !== undefined && !Array.isArray(ext))) {
          this.issue(run, 'error', 'structure', where, `'${key}' repeats, so it must be a JSON array`);
          continue;
        }
        const vs = (value as unknown[] | undefined) ?? [];
        const es = (ext as unknown[] | undefined) ?? [];
        if ((value !== undefined && vs.length === 0) || (ext !== undefined && es.length === 0)) {
          this.issue(run, 'error', 'structure', where, 'Arrays must not be empty');
        }
        const n = Math.max(vs.length, es.length);
        for (let i = 0; i < n; i++) {
          const v = vs[i] ?? undefined;
          const e = es[i] ?? undefined;
          if (v === undefined && e === undefined) {
            this.issue(run, 'error', 'structure', `${where}[${i}]`, 'A null in an array needs a value or extension at the same position in its twin');
            continue;
          }
          items.push({ value: v, ext: e, key, type, path: `${where}[${i}]` });
        }
      } else {
        if (Array.isArray(value) || Array.isArray(ext)) {
          this.issue(run, 'error', 'structure', where, `'${key}' does not repeat, so it must not be a JSON array`);
          continue;
        }
        if (value === null || ext === null) {
          this.issue(run, 'error', 'structure', where, 'null is not allowed in FHIR JSON');
          continue;
        }
        items.push({ value, ext, key, type, path: where });
      }
    }
    this.cardinality(items.length, def, profile, path, run);
    // the slice each item falls in: type slices of a choice element, or the slicing's verdict
    let slices: (ElementNode | undefined)[] | undefined = def.choice ? items.map((it) => props.get(it.key)!.slice) : undefined;
    if (def.slices.length && def.slicing && !def.choice) {
      const a = assignSlices(items.map((i) => i.value), items.map((i) => i.key), def, {
        profile,
        conformsTo: (item, url) => this.conforms(item, url, run),
        typeOf: (item, key) => this.typeOf(item, key, def),
        resolve: (reference) => this.resolveReference(reference, run),
        profileType: (url) => coreType(url) ?? this.profiles.get(url)?.type,
        inValueSet: (vs, v) => (typeof v === 'string' ? this.bindings.code(vs, v) : v && typeof v === 'object' ? this.bindings.coding(vs, v as Coding) : undefined)?.verdict === 'in',
      });
      slices = a.slices;
      for (const pr of a.problems) this.issue(run, pr.severity, 'structure', pr.index === undefined ? path : items[pr.index].path, pr.message);
    }
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      this.value(it.value, it.ext, slices?.[i] ?? def, it.type, profile, it.path, run);
    }
  }

  /** children() for an element that is neither sliced nor a choice (most of them): the same
   * checks, issues and order, without gathering the repetitions into objects first (a third of
   * the walk's allocations). */
  private plainChildren(obj: Json, def: ElementNode, props: Map<string, Prop>, profile: CompiledProfile, path: string, run: Run, twins: boolean): void {
    if (!(def.name in obj) && !(twins && def.extName in obj)) {
      if (def.min > 0) this.cardinality(0, def, profile, path, run);
      return;
    }
    const value = obj[def.name];
    const ext = twins ? obj[def.extName] : undefined;
    const type = props.get(def.name)!.type;
    const where = `${path}.${def.name}`;
    if (!def.array) {
      if (Array.isArray(value) || Array.isArray(ext)) {
        this.issue(run, 'error', 'structure', where, `'${def.name}' does not repeat, so it must not be a JSON array`);
        this.cardinality(0, def, profile, path, run);
      } else if (value === null || ext === null) {
        this.issue(run, 'error', 'structure', where, 'null is not allowed in FHIR JSON');
        this.cardinality(0, def, profile, path, run);
      } else {
        this.cardinality(1, def, profile, path, run);
        this.value(value, ext, def, type, profile, where, run);
      }
      return;
    }
    if ((value !== undefined && !Array.isArray(value)) || (ext !== undefined && !Array.isArray(ext))) {
      this.issue(run, 'error', 'structure', where, `'${def.name}' repeats, so it must be a JSON array`);
      this.cardinality(0, def, profile, path, run);
      return;
    }
    const vs = (value as unknown[] | undefined) ?? NONE;
    const es = (ext as unknown[] | undefined) ?? NONE;
    if ((value !== undefined && vs.length === 0) || (ext !== undefined && es.length === 0)) {
      this.issue(run, 'error', 'structure', where, 'Arrays must not be empty');
    }
    const n = Math.max(vs.length, es.length);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if ((vs[i] ?? undefined) === undefined && (es[i] ?? undefined) === undefined) {
        this.issue(run, 'error', 'structure', `${where}[${i}]`, 'A null in an array needs a value or extension at the same position in its twin');
      } else count++;
    }
    this.cardinality(count, def, profile, path, run);
    for (let i = 0; i < n; i++) {
      const v = vs[i] ?? undefined;
      const e = es[i] ?? undefined;
      if (v !== undefined || e !== undefined) this.value(v, e, def, type, profile, `${where}[${i}]`, run);
    }
  }

  /** The element's repetitions against its min and max. */
  private cardinality(count: number, def: ElementNode, profile: CompiledProfile, path: string, run: Run): void {
    if (count >= def.min && count <= def.max) return;
    const label = `${path}.${def.name}${def.choice ? '[x]' : ''}`;
    const from = profile.derivation === 'constraint' ? ` (from ${profile.url})` : '';
    if (count < def.min) this.issue(run, 'error', 'required', path, `${label}: minimum required = ${def.min}, but only found ${count}${from}`);
    else this.issue(run, 'error', 'structure', path, `${label}: max allowed = ${def.max}, but found ${count}${from}`);
  }

  private typeOf(item: unknown, key: string, def: ElementNode): string | undefined {
    const rt = (item as Json | null)?.resourceType;
    if (typeof rt === 'string') return rt;
    if (def.choice && key.startsWith(def.name)) {
      const suffix = key.slice(def.name.length);
      return def.types.find((t) => cap(t.code) === suffix)?.code;
    }
    return def.types[0]?.code;
  }

  /** The resource a Reference points to: a contained one (#id), or an entry of the Bundle being
   * walked (by fullUrl, or Type/id against the entries' resources). */
  private resolveReference(reference: unknown, run: Run): unknown {
    const ref = (reference as Json | null)?.reference;
    if (typeof ref !== 'string') return undefined;
    if (ref.startsWith('#')) {
      const contained = (run.resource as Json | undefined)?.contained;
      return Array.isArray(contained) ? (contained as Json[]).find((c) => c?.id === ref.slice(1)) : undefined;
    }
    const entries = run.bundle?.entry;
    if (!Array.isArray(entries)) return undefined;
    return (run.bundleIndex ??= new EntryIndex(entries as Json[])).resolve(ref);
  }

  /** The Questionnaire a response answers, when it is at hand: contained, or in the Bundle. */
  private questionnaireOf(qr: Json, run: Run): Json | undefined {
    const url = qr.questionnaire;
    if (typeof url !== 'string') return undefined;
    if (url.startsWith('#')) {
      const contained = Array.isArray(qr.contained) ? (qr.contained as Json[]) : [];
      return contained.find((c) => c?.resourceType === 'Questionnaire' && c.id === url.slice(1));
    }
    const entries = Array.isArray(run.bundle?.entry) ? (run.bundle.entry as Json[]) : [];
    const [u, version] = url.split('|');
    for (const e of entries) {
      const res = e?.resource as Json | undefined;
      if (res?.resourceType === 'Questionnaire' && res.url === u && (!version || res.version === version)) return res;
    }
    return undefined;
  }

  /** Whether a value conforms to a profile (profile discriminators): no errors against it. */
  private conforms(item: unknown, url: string, run: Run): boolean {
    const p = this.profiles.get(url);
    if (!p) return false;
    const sub: Run = { issues: [], seen: new Set(), resource: run.resource, rootResource: run.rootResource, resourcePath: run.resourcePath, depth: run.depth + 1, unknownExtensions: run.unknownExtensions, host: run.host };
    if (sub.depth > MAX_DEPTH || item === null || typeof item !== 'object') return false;
    if (p.kind === 'resource') this.resource(item, p.type, sub, [url], false);
    else this.element(item as Json, p.root, p, p.type, p.type, sub, false);
    return !sub.issues.some((i) => i.severity === 'error');
  }

  /** One repetition: a primitive (value and/or `_` extension object), a resource or a complex value. */
  private value(value: unknown, ext: unknown, def: ElementNode, type: string, profile: CompiledProfile, path: string, run: Run): void {
    if (PRIMITIVE_TYPES.has(type)) {
      if (value !== undefined) {
        this.primitive(value, def, type, path, run);
        // invariants on primitive elements (vital signs' vs-1: a date precise to the day)
        for (const c of invariantsOf(def)) this.invariant(c, def, type, value, path, run);
      }
      if (ext !== undefined) {
        if (ext === null || typeof ext !== 'object' || Array.isArray(ext)) this.issue(run, 'error', 'structure', path, 'The primitive extension (_) must be a JSON object');
        else {
          const outer = run.primitive;
          run.primitive = { paths: [def.path, `${run.host}.${def.name}`], type };
          this.element(ext as Json, this.profiles.type('Element')!.root, this.profiles.type('Element')!, 'Element', path, run, false);
          run.primitive = outer;
        }
      }
      return;
    }
    if (type === 'Resource' || this.resourceTypes.has(type)) {
      // a contained resource is read inside its container (%rootResource); a Bundle entry or
      // Parameters resource stands alone
      const outerRoot = run.rootResource;
      if (def.name !== 'contained') run.rootResource = value;
      this.resource(value, path, run, def.types[0]?.profiles ?? [], true);
      run.rootResource = outerRoot;
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.issue(run, 'error', 'structure', path, `Expected a JSON object (${type})`);
      return;
    }
    const obj = value as Json;
    if (def.fixed !== undefined && !jsonEqual(obj, def.fixed)) this.issue(run, 'error', 'value', path, `Value does not match the fixed value ${JSON.stringify(def.fixed).slice(0, 200)}`);
    if (def.pattern !== undefined && !matchesPattern(obj, def.pattern)) this.issue(run, 'error', 'value', path, `Value does not match the required pattern ${JSON.stringify(def.pattern).slice(0, 200)}`);
    if (type === 'Extension') {
      this.extension(obj, def, profile, path, run);
      return;
    }
    this.element(obj, def, profile, type, path, run, false);
    for (const i of datatypeIssues(type, obj, this.resourceTypes)) this.issue(run, i.severity, i.code, `${path}${i.at}`, i.message);
    if (type === 'Coding') this.coding(obj, path, run);
    if (def.binding) this.complexBinding(obj, def, type, path, run);
    if (type === 'Reference') this.reference(obj, def, path, run);
    // datatype profiles (SimpleQuantity, a profiled Identifier …)
    for (const t of def.types) {
      if (t.code !== type) continue;
      for (const url of t.profiles ?? []) {
        const p = this.profiles.get(url);
        if (p && p.url !== CORE + type) this.element(obj, p.root, p, type, path, run, false);
      }
    }
  }

  private primitive(v: unknown, def: ElementNode, type: string, path: string, run: Run): void {
    const err = primitiveError(type, v);
    if (err) {
      const message = type === 'xhtml' && typeof v === 'string' ? err[0].toUpperCase() + err.slice(1) : `The value ${err}`;
      this.issue(run, 'error', typeof v === 'object' ? 'structure' : 'value', path, message);
      return;
    }
    if (typeof v === 'string') for (const i of primitiveIssues(type, v)) this.issue(run, i.severity, i.code, path, i.message);
    if (def.fixed !== undefined && v !== def.fixed) this.issue(run, 'error', 'value', path, `Value is '${String(v).slice(0, 100)}' but must be '${String(def.fixed).slice(0, 200)}'`);
    if (def.pattern !== undefined && v !== def.pattern) this.issue(run, 'error', 'value', path, `Value is '${String(v).slice(0, 100)}' but must be '${String(def.pattern).slice(0, 200)}'`);
    if (def.maxLength !== undefined && typeof v === 'string' && v.length > def.maxLength) this.issue(run, 'error', 'too-long', path, `The value is ${v.length} characters long, more than the maximum ${def.maxLength}`);
    if (def.minValue !== undefined && (compareValue(v, def.minValue) ?? 0) < 0) this.issue(run, 'error', 'value', path, `The value ${String(v)} is below the minimum ${def.minValue}`);
    if (def.maxValue !== undefined && (compareValue(v, def.maxValue) ?? 0) > 0) this.issue(run, 'error', 'value', path, `The value ${String(v)} is above the maximum ${def.maxValue}`);
    if (def.binding?.valueSet && (type === 'code' || type === 'string' || type === 'uri') && typeof v === 'string') {
      this.report(this.bindings.code(def.binding.valueSet, v), def, path, run);
    }
  }

  /** A binding verdict as an issue of the binding strength's severity. */
  private report(m: Membership, def: ElementNode, path: string, run: Run): void {
    const strength = def.binding!.strength;
    if (strength !== 'required' && strength !== 'extensible') return;
    if (m.verdict === 'out') this.issue(run, strength === 'required' ? 'error' : 'warning', 'code-invalid', path, m.message);
    else if (m.verdict === 'unknown') this.issue(run, 'information', 'not-supported', path, `The binding to ${def.binding!.valueSet} could not be checked: ${m.message}`);
  }

  /** Every Coding, bound or not: its code must exist in its code system when the server holds
   * the whole system, and its display should be one the system gives (a warning, as the
   * reference validator's). */
  private coding(obj: Json, path: string, run: Run): void {
    if (typeof obj.system !== 'string' || typeof obj.code !== 'string' || obj.version !== undefined) return;
    const m = this.bindings.inCodeSystem(obj as Coding);
    if (m.verdict === 'out') {
      this.issue(run, 'error', 'code-invalid', `${path}.code`, m.message);
    } else if (m.verdict === 'in' && typeof obj.display === 'string' && m.displays?.length) {
      const d = obj.display.trim().toLowerCase();
      if (!(m.displayKeys ? m.displayKeys.has(d) : m.displays.some((x) => x.trim().toLowerCase() === d))) {
        this.issue(run, 'warning', 'invalid', `${path}.display`, `Wrong display '${obj.display.slice(0, 100)}' for ${obj.system}#${obj.code}: valid display is '${m.displays[0]}'`);
      }
    }
  }

  private complexBinding(obj: Json, def: ElementNode, type: string, path: string, run: Run): void {
    const vs = def.binding!.valueSet;
    const strength = def.binding!.strength;
    if (!vs || (strength !== 'required' && strength !== 'extensible')) return;
    let codings: Coding[];
    if (type === 'CodeableConcept') codings = Array.isArray(obj.coding) ? (obj.coding as Coding[]) : [];
    else if (type === 'Coding') codings = [obj as Coding];
    else if (type === 'Quantity' && typeof obj.code === 'string') codings = [{ system: obj.system as string | undefined, code: obj.code }];
    else return;
    codings = codings.filter((c) => c && typeof c.code === 'string');
    if (!codings.length) {
      if (strength === 'required' && type === 'CodeableConcept') this.issue(run, 'error', 'code-invalid', path, `No code provided, and a code is required from the value set ${vs}`);
      return;
    }
    const verdicts = codings.map((c) => this.bindings.coding(vs, c));
    if (verdicts.some((m) => m.verdict === 'in')) return;
    const unknown = verdicts.find((m) => m.verdict === 'unknown');
    if (unknown) {
      this.report(unknown, def, path, run);
      return;
    }
    // extensible: a code from another system than the value set's is allowed when the concept is
    // not covered; the reference validator warns
    this.report(verdicts[0], def, path, run);
  }

  private reference(obj: Json, def: ElementNode, path: string, run: Run): void {
    const ref = obj.reference;
    const targets = def.types.find((t) => t.code === 'Reference')?.targetProfiles;
    if (typeof ref !== 'string' || !targets?.length) return;
    let actual: string | undefined;
    if (ref.startsWith('#')) {
      const contained = (run.rootResource as Json | undefined)?.contained;
      const hit = Array.isArray(contained) ? (contained as Json[]).find((c) => c?.id === ref.slice(1)) : undefined;
      actual = typeof hit?.resourceType === 'string' ? hit.resourceType : undefined;
    } else {
      const named = resourceAddress(ref);
      if (named && this.resourceTypes.has(named.type)) actual = named.type;
      else {
        // urn:uuid / urn:oid references between Bundle entries: the entry's resource says
        const target = this.resolveReference(obj, run) as Json | undefined;
        if (typeof target?.resourceType === 'string') actual = target.resourceType;
      }
    }
    if (!actual) return;
    const allowed = this.targetTypes(def, targets);
    if (allowed.has('Resource') || allowed.has(actual) || allowed.size === 0) return;
    this.issue(run, 'error', 'structure', path, `The type '${actual}' implied by the reference URL ${ref.slice(0, 200)} is not a valid target for this element (must be one of ${[...allowed].join(', ')})`);
  }

  /** The resource types a Reference element's target profiles allow, worked out once per element
   * definition when every target is a core type's (a profile may be written or replaced later). */
  private targetTypes(def: ElementNode, targets: string[]): Set<string> {
    const cached = this.targetCache.get(def);
    if (cached) return cached;
    const allowed = new Set<string>();
    let complete = true;
    for (const t of targets) {
      const named = coreType(t);
      const isCore = named !== undefined && (named === 'Resource' || this.resourceTypes.has(named));
      const core = isCore ? named : this.profiles.get(t)?.type;
      if (core) allowed.add(core);
      if (!isCore) complete = false;
    }
    if (complete) this.targetCache.set(def, allowed);
    return allowed;
  }

  private readonly targetCache = new WeakMap<ElementNode, Set<string>>();

  private extension(obj: Json, def: ElementNode, profile: CompiledProfile, path: string, run: Run): void {
    const url = obj.url;
    const hasValue = Object.keys(obj).some((k) => /^_?value[A-Z]/.test(k));
    const hasNested = Array.isArray(obj.extension) && obj.extension.length > 0;
    if (hasValue === hasNested) this.issue(run, 'error', 'invariant', path, 'Must have either extensions or value[x], not both (ext-1)');
    const outerParent = run.parentExtension;
    if (typeof url === 'string') run.parentExtension = url;
    try {
      // the element itself (url, value[x] types, nested extensions), against the slice when sliced
      this.element(obj, def, profile, 'Extension', path, run, false);
      // nested extensions of a complex extension (relative urls) are defined by their slice
      if (typeof url !== 'string' || !url.includes(':')) return;
      const declared = def.types.find((t) => t.code === 'Extension')?.profiles?.[0];
      const ext = this.profiles.get(declared ?? url);
      if (!ext) {
        this.unknownExtension(url, def.name === 'modifierExtension', path, run);
        return;
      }
      if (ext.type !== 'Extension') return;
      if (declared && declared !== url && !url.startsWith(declared)) return;
      this.element(obj, ext.root, ext, 'Extension', path, run, false);
      run.parentExtension = outerParent;
      this.extensionContext(ext, def, path, run);
    } finally {
      run.parentExtension = outerParent;
    }
  }

  /** An extension neither the server nor its packages define. As the HL7 reference validator:
   * the spec's placeholder domains (example.org), DICOM's (nema.org) and HL7's tooling
   * extensions are tolerated with a warning; HL7's own namespace is published in packages this
   * server may not hold, so it is a warning too; anything else follows the policy (an error by
   * default). A modifier extension that is not understood is always an error. */
  private unknownExtension(url: string, modifier: boolean, path: string, run: Run): void {
    const placeholder = /^https?:\/\/([^/]*\.)?(example\.(org|com)|acme\.com)\//.test(url);
    if (modifier && !placeholder) {
      this.issue(run, 'error', 'extension', path, `Unknown extension ${url.slice(0, 200)}: a modifier extension that is not understood makes the element unsafe to process`);
      return;
    }
    const tolerated = placeholder || /^https?:\/\/([^/]*\.)?nema\.org\//.test(url) || url.startsWith('http://hl7.org/fhir/tools/StructureDefinition/');
    if (tolerated || /^https?:\/\/hl7\.org\/fhir\//.test(url)) {
      this.issue(run, 'warning', 'extension', path, `Unknown extension ${url.slice(0, 200)}`);
      return;
    }
    if (run.unknownExtensions === 'accept') return;
    if (run.unknownExtensions === 'warning') this.issue(run, 'warning', 'extension', path, `Unknown extension ${url.slice(0, 200)}`);
    else this.issue(run, 'error', 'extension', path, `The extension ${url.slice(0, 200)} is unknown, and not allowed here`);
  }

  /** An extension may only be used where its context allows (StructureDefinition.context), as
   * the reference validator judges it: an element context names the element's path (the path
   * in the resource, Patient.name, or in its type's definition, HumanName.given) or a type the
   * element is of or derives from (HumanName, Element, Resource); an extension context names
   * the extension it is nested in. FHIRPath contexts are not evaluated (accepted). */
  private extensionContext(ext: CompiledProfile, def: ElementNode, path: string, run: Run): void {
    const contexts = [...(ext.context ?? []), ...(CONTEXT_CORRECTIONS[ext.url] ?? [])];
    if (!contexts.length || contexts.some((c) => c.type === 'fhirpath')) return;
    // the literal path, from the resource the extension is in (a Patient in a Bundle entry is
    // judged as Patient), without indexes and the trailing .extension
    const type = (run.resource as Json | undefined)?.resourceType;
    const local = typeof type === 'string' && path.startsWith(run.resourcePath) ? `${type}${path.slice(run.resourcePath.length)}` : path;
    const literal = local.replace(/\[\d+\]/g, '').replace(/\.(modifierExtension|extension)$/, '');
    // a value inside an ElementDefinition (example, fixed, pattern, default …) stands for an
    // instance of the element being defined, which its path does not show: not judged here
    if (/\.(example\.value|fixed|pattern|defaultValue|minValue|maxValue)[A-Z]/.test(literal)) return;
    const defined = def.path.replace(/\.(modifierExtension|extension)$/, '');
    const primitive = defined === 'Element' ? run.primitive : undefined;
    const paths = [literal, ...(primitive?.paths ?? [defined])];
    const types = this.ancestors(primitive?.type ?? run.host);
    for (const c of contexts) {
      const e = c.expression;
      if (c.type === 'extension') {
        if (run.host === 'Extension' && run.parentExtension !== undefined && withoutVersion(run.parentExtension) === withoutVersion(e)) return;
        continue;
      }
      if (EXT_BASE.has(e) || types.includes(e) || paths.includes(e)) return;
      // value[x] in a context, valueQuantity in the instance
      if (e.endsWith('[x]') && paths.some((p) => p.startsWith(e.slice(0, -3)) && /^[A-Z][A-Za-z]*$/.test(p.slice(e.length - 3)))) return;
      // a path on an ancestor type (Resource.meta, DomainResource.text)
      const dot = e.indexOf('.');
      if (dot > 0 && types.includes(e.slice(0, dot)) && paths.some((p) => p.endsWith(e.slice(dot)))) return;
      // names this server has no definition of (R5 types, profile-qualified paths): not judged
      if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*(\[x\])?)*$/.test(e) || !this.profiles.type(e.slice(0, dot > 0 ? dot : undefined))) return;
    }
    // on write the server's extension policy decides (R4's own examples use some extensions
    // outside their declared contexts); $validate and the CLI give the reference verdict
    if (run.unknownExtensions === 'accept') return;
    const allowed = contexts.map((c) => `${c.type === 'extension' ? 'x' : 'e'}:${c.expression}`).join(', ');
    this.issue(run, run.unknownExtensions === 'warning' ? 'warning' : 'error', 'business-rule', path, `The extension ${ext.url} is not allowed to be used at this point (allowed = ${allowed}; this element is [${[...new Set([...paths, ...types.slice(0, 1)])].join(', ')}])`);
  }

  /** A type and the types it derives from (Age, Quantity, Element, Base), for extension contexts. */
  private ancestors(type: string): string[] {
    const out: string[] = [];
    let p = type ? this.profiles.type(type) : undefined;
    while (p && out.length < 8) {
      out.push(p.type);
      p = p.baseDefinition ? this.profiles.get(p.baseDefinition) : undefined;
    }
    return out;
  }
}
