// Search parameters by resource type: the 1,400 R4 SearchParameters from the definitions
// package plus custom SearchParameter resources. Each parameter's FHIRPath expression is
// compiled once (with the R4 model) and trimmed to the branches that apply to the type, so
// indexing a Condition does not evaluate the AllergyIntolerance branch of clinical-code.
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { PathInfo, SearchParameterInfo } from '../fhir/definitions.ts';
import { compileSimplePath, endsInCanonical, unionBranches } from './simple-path.ts';

export type SearchParamType = 'string' | 'token' | 'date' | 'number' | 'quantity' | 'reference' | 'uri' | 'composite' | 'special';

/** A FHIRPath result node: the value and its FHIR type name (HumanName, Coding, date, …). */
export interface FhirNode {
  data: unknown;
  type: string;
  /** FHIRPath's path of the node (Observation.component), when fhirpath produced it */
  path?: string;
}

export interface SearchParam {
  /** index key: `${resourceType}.${code}`, or `Resource.${code}` for parameters of every type */
  key: string;
  code: string;
  type: SearchParamType;
  url: string;
  expression?: string;
  /** resource types a reference parameter may point to */
  targets: string[];
  /** a reference parameter whose element is a canonical (it names targets by url) */
  canonical?: boolean;
  components?: { definition: string; expression: string }[];
  /** evaluates the expression on a resource; undefined when the parameter has no expression */
  evaluate?: (resource: unknown) => FhirNode[];
  /** composite parameters: each component's type and its evaluation within the g-th root node */
  composite?: { type: SearchParamType; evaluate: (root: FhirNode) => FhirNode[] }[];
  /** keys of the parameters whose index rows answer this one: its expression is the union of
   * theirs (Observation.combo-code = code | component-code), so it stores no rows of its own */
  unionOf?: string[];
}

const COMMON_BASES = new Set(['Resource', 'DomainResource']);

/** The branches of an expression that can match `type`. */
export function branchesFor(expression: string, type: string, allTypes: ReadonlySet<string>): string {
  const kept = unionBranches(expression).filter((b) => {
    const m = /^\(*\s*([A-Z][A-Za-z]+)\b/.exec(b);
    return !m || m[1] === type || !allTypes.has(m[1]) || COMMON_BASES.has(m[1]);
  });
  return kept.join(' | ');
}

/** `where(resolve() is Patient)` needs a resolver; the reference's own type says the same thing,
 * and the parameter's target list restricts it (see extract.ts). */
function withoutResolve(expression: string): string {
  return expression.replace(/\.where\(\s*resolve\(\)\s+is\s+[A-Za-z]+\s*\)/g, '');
}

function compile(expression: string | { base: string; expression: string }): (resource: unknown) => FhirNode[] {
  const fn = fhirpath.compile(expression as string, r4model, { resolveInternalTypes: false });
  return (resource) => {
    const nodes = fn(resource as object) as any[];
    return nodes.map((n) =>
      n && typeof n === 'object' && 'data' in n
        ? { data: n.data, type: n.getTypeInfo?.()?.name ?? n.fhirNodeDataType ?? typeOfPlain(n.data), path: n.path }
        : { data: n, type: typeOfPlain(n) },
    );
  };
}

/** Patient's `deceased` token: the one base parameter of Patient, Encounter and Provenance that
 * the simple paths cannot read, evaluated here as FHIRPath does (absent or false → false, a
 * date or true → true): FHIRPath cost ~2% of the CPU of an HL7 v2 message. Content FHIRPath
 * reads differently (a primitive's extension without a value, a value of the wrong JSON type)
 * is left to FHIRPath. */
const DECEASED = 'Patient.deceased.exists() and Patient.deceased != false';
function deceasedFlag(resource: unknown): FhirNode[] | undefined {
  const r = resource as Record<string, unknown>;
  if ('_deceasedBoolean' in r || '_deceasedDateTime' in r) return undefined;
  const flag = r.deceasedBoolean;
  const date = r.deceasedDateTime;
  if ((flag !== undefined && typeof flag !== 'boolean') || (date !== undefined && typeof date !== 'string') || (flag !== undefined && date !== undefined)) return undefined;
  return [{ data: flag ?? (date !== undefined), type: 'boolean' }];
}

function typeOfPlain(v: unknown): string {
  return typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'decimal' : 'string';
}

export class SearchParamRegistry {
  private readonly byType = new Map<string, Map<string, SearchParam>>();
  private readonly resourceTypes: ReadonlySet<string>;
  private readonly indexedCache = new Map<string, SearchParam[]>();

  private readonly base: SearchParameterInfo[];
  private readonly byUrl = new Map<string, SearchParameterInfo>();
  /** custom SearchParameters by url, applied over the base ones */
  private readonly custom = new Map<string, SearchParameterInfo>();

  private readonly paths: Record<string, PathInfo>;

  /** `paths` (from the definitions) enables the fast evaluator for plain-path expressions. */
  constructor(resourceTypes: string[], params: SearchParameterInfo[], paths: Record<string, PathInfo> = {}) {
    this.resourceTypes = new Set(resourceTypes);
    this.paths = paths;
    // Prefer the canonical definition when two share a base and code (R4 has two Resource._id).
    this.base = [...params].sort((a, b) => Number(this.canonical(b)) - Number(this.canonical(a)));
    for (const p of this.base) this.byUrl.set(p.url, p);
    this.rebuild();
  }

  private rebuild(): void {
    for (const t of this.resourceTypes) this.byType.set(t, new Map());
    this.indexedCache.clear();
    for (const p of this.base) this.add(p, false);
    for (const p of this.custom.values()) this.add(p, true);
    for (const t of this.resourceTypes) this.findUnions(t);
  }

  /** Marks the parameters of `type` whose expression is the union of other parameters' (R4:
   * Observation's combo-code, combo-value-concept, combo-data-absent-reason and the two
   * combo composites): their searches read the parts' rows, which hold the same values, and an
   * Observation stores ~3 index rows fewer. References keep their own rows (_include names them). */
  private findUnions(type: string): void {
    const params = [...this.byType.get(type)!.values()];
    const componentTypes = (p: SearchParam) => (p.components ?? []).map((c) => `${this.byUrl.get(c.definition)?.type}:${c.expression}`).join(',');
    for (const p of params) {
      if (!p.evaluate || p.type === 'reference' || p.key.startsWith('Resource.')) continue;
      const branches = unionBranches(p.expression!).map((b) => b.trim());
      if (branches.length < 2) continue;
      const parts = branches.map((b) => params.find((q) =>
        q !== p && q.evaluate && !q.unionOf && q.type === p.type && q.code !== 'phonetic' && q.expression?.trim() === b && componentTypes(q) === componentTypes(p)));
      if (parts.every(Boolean) && p.code !== 'phonetic') p.unionOf = [...new Set(parts.map((q) => q!.key))];
    }
  }

  /** Registers a custom SearchParameter (replacing one with the same url, or a base parameter
   * with the same code); resources written before need $reindex to be found by it. */
  addCustom(p: SearchParameterInfo): void {
    if (!p.code || !p.base?.length || !p.type) return;
    this.custom.set(p.url, p);
    this.byUrl.set(p.url, p);
    this.rebuild();
  }

  /** The resource types custom SearchParameters apply to (undefined: every type, for a
   * parameter on Resource or DomainResource). */
  customBases(): string[] | undefined {
    const bases = new Set([...this.custom.values()].flatMap((p) => p.base ?? []));
    return [...bases].some((b) => COMMON_BASES.has(b)) ? undefined : [...bases];
  }

  /** Whether a parameter comes from a stored SearchParameter (written through the API) rather
   * than from R4 itself. */
  isCustom(url: string): boolean {
    return this.custom.has(url);
  }

  removeCustom(url: string): void {
    if (this.custom.delete(url)) this.rebuild();
  }

  private canonical(p: SearchParameterInfo): boolean {
    return (p.base ?? []).some((b) => p.url === `http://hl7.org/fhir/SearchParameter/${b}-${p.code.replace(/^_/, '')}`);
  }

  /** Registers a parameter for each of its bases; `replace` lets a custom one supersede. */
  private add(p: SearchParameterInfo, replace: boolean): SearchParam[] {
    const added: SearchParam[] = [];
    for (const base of p.base ?? []) {
      const types = COMMON_BASES.has(base) ? [...this.resourceTypes] : this.resourceTypes.has(base) ? [base] : [];
      for (const type of types) {
        const map = this.byType.get(type)!;
        if (map.has(p.code) && !replace) continue;
        const key = COMMON_BASES.has(base) ? `Resource.${p.code}` : `${type}.${p.code}`;
        let expression = p.expression;
        if (expression && !COMMON_BASES.has(base)) expression = branchesFor(expression, type, this.resourceTypes);
        const param: SearchParam = {
          key,
          code: p.code,
          type: p.type as SearchParamType,
          url: p.url,
          expression,
          targets: p.target ?? [],
          components: p.component,
          ...(p.type === 'reference' && expression && endsInCanonical(withoutResolve(expression), type, this.paths) ? { canonical: true } : {}),
        };
        if (expression && p.type === 'composite' && p.component?.length) {
          const root = withoutResolve(expression);
          const types = p.component.map((c) => this.byUrl.get(c.definition)?.type as SearchParamType | undefined);
          if (types.every((t) => t && t !== 'composite' && t !== 'special')) {
            let compiledRoot: ((r: unknown) => FhirNode[]) | undefined;
            // a root of the resource itself (code-value-quantity: "Observation") needs no FHIRPath
            param.evaluate = (r) => (compiledRoot ??= compileSimplePath(root, type, this.paths) ?? compile(root))(r);
            param.composite = p.component.map((c, i) => {
              const perBase = new Map<string, (r: unknown) => FhirNode[]>();
              return {
                type: types[i]!,
                // evaluated on each root node, typed by the node's path (Observation.component)
                evaluate: (node: FhirNode) => {
                  const base = node.path ?? type;
                  let fn = perBase.get(base);
                  if (!fn) {
                    const expr = withoutResolve(c.expression);
                    fn = compileSimplePath(expr, base, this.paths) ?? compile({ base, expression: expr });
                    perBase.set(base, fn);
                  }
                  return fn(node.data);
                },
              };
            });
          }
        } else if (expression && p.type !== 'special' && p.type !== 'composite') {
          let compiled: ((r: unknown) => FhirNode[]) | undefined;
          const source = withoutResolve(expression);
          // compiled on first use: most of the 1,400 parameters are never needed
          param.evaluate = (r) => (compiled ??= compileSimplePath(source, type, this.paths) ?? compile(source))(r);
          if (source === DECEASED) {
            const general = param.evaluate;
            param.evaluate = (r) => deceasedFlag(r) ?? general(r);
          }
        }
        map.set(p.code, param);
        this.indexedCache.delete(type);
        added.push(param);
      }
    }
    return added;
  }

  /** The parameter behind an index key (Patient.name → its SearchParam). */
  byKey(key: string): SearchParam | undefined {
    const dot = key.indexOf('.');
    const [type, code] = [key.slice(0, dot), key.slice(dot + 1)];
    return type === 'Resource' ? this.get('Patient', code) : this.get(type, code);
  }

  get(type: string, code: string): SearchParam | undefined {
    return this.byType.get(type)?.get(code);
  }

  forType(type: string): Iterable<SearchParam> {
    return this.byType.get(type)?.values() ?? [];
  }

  /** Parameters that index values: those with an expression of a supported type, except _id
   * and _lastUpdated, which every engine answers from the resource itself. */
  indexed(type: string): SearchParam[] {
    let list = this.indexedCache.get(type);
    if (!list) {
      list = [...this.forType(type)].filter((p) => p.evaluate && !p.unionOf && p.code !== '_id' && p.code !== '_lastUpdated');
      this.indexedCache.set(type, list);
    }
    return list;
  }

  /** Compile every expression now, so the first write does not pay for it. */
  warm(type: string): void {
    for (const p of this.indexed(type)) p.evaluate!({ resourceType: type });
  }
}
