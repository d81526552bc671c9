// The R4 definitions the server needs, as compact lookup tables built from the published
// `hl7.fhir.r4.examples@4.0.1` package (CC0). Reading its 655 StructureDefinitions takes about a
// second, so the tables are built once and cached (node_modules/.cache/migfhir), which keeps
// start-up well under the 2 s budget; a changed package version or builder invalidates the cache.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One top-level element of a resource type, enough for _summary, _elements and shape checks. */
export interface ElementInfo {
  /** JSON name without [x]; choice elements are expanded through `choice`. */
  name: string;
  min: number;
  max: string;
  summary: boolean;
  modifier: boolean;
  types: string[];
  choice: boolean;
}

export interface SearchParameterInfo {
  url: string;
  code: string;
  base: string[];
  type: string;
  expression?: string;
  target?: string[];
  modifier?: string[];
  comparator?: string[];
  multipleOr?: boolean;
  multipleAnd?: boolean;
  component?: { definition: string; expression: string }[];
}

export interface CompartmentInfo {
  code: string;
  /** resource type → search parameter codes linking it to the compartment */
  resources: Record<string, string[]>;
}

/** Types of an element at any depth, keyed by its path: `Observation.component.value` (choice
 * names without [x]) for resources and their backbone elements, `HumanName.family` for
 * complex datatypes. */
export interface PathInfo {
  types: string[];
  choice: boolean;
  max: string;
}

export interface R4Definitions {
  fhirVersion: string;
  source: string;
  resourceTypes: string[];
  elements: Record<string, ElementInfo[]>;
  paths: Record<string, PathInfo>;
  searchParameters: SearchParameterInfo[];
  compartments: CompartmentInfo[];
}

const BUILDER_VERSION = 3;
const PACKAGE = 'hl7.fhir.r4.examples';
const require = createRequire(import.meta.url);

function packageDir(): string {
  return dirname(require.resolve(`${PACKAGE}/package.json`));
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The parts of a SearchParameter resource that search needs. */
export function searchParameterInfo(sp: any): SearchParameterInfo {
  return {
    url: sp.url,
    code: sp.code,
    base: sp.base,
    type: sp.type,
    ...(sp.expression ? { expression: sp.expression } : {}),
    ...(sp.target ? { target: sp.target } : {}),
    ...(sp.modifier ? { modifier: sp.modifier } : {}),
    ...(sp.comparator ? { comparator: sp.comparator } : {}),
    ...(sp.multipleOr !== undefined ? { multipleOr: sp.multipleOr } : {}),
    ...(sp.multipleAnd !== undefined ? { multipleAnd: sp.multipleAnd } : {}),
    ...(sp.component ? { component: sp.component } : {}),
  };
}

export function buildDefinitions(dir = packageDir()): R4Definitions {
  const pkg = readJson(join(dir, 'package.json'));
  const files = readdirSync(dir);
  const elements: Record<string, ElementInfo[]> = {};
  const paths: Record<string, PathInfo> = {};
  for (const f of files) {
    if (!f.startsWith('StructureDefinition-')) continue;
    const sd = readJson(join(dir, f));
    // specializations, and the abstract roots Resource, DomainResource, Element, BackboneElement
    if (sd.derivation !== 'specialization' && sd.baseDefinition) continue;
    if (sd.kind === 'resource' || sd.kind === 'complex-type') {
      for (const e of sd.snapshot.element as any[]) {
        if (!e.path.includes('.')) continue;
        const choice = e.path.endsWith('[x]');
        const types = (e.type ?? []).map((t: any) => (t.code.startsWith('http://hl7.org/fhirpath/') ? 'string' : t.code));
        if (e.contentReference) {
          // e.g. Questionnaire.item.item → Questionnaire.item: the referenced element's children
          types.push(`#${e.contentReference.slice(1)}`);
        }
        paths[choice ? e.path.slice(0, -3) : e.path] = { types, choice, max: e.max ?? '*' };
      }
    }
    if (sd.kind !== 'resource' || sd.abstract) continue;
    const type: string = sd.type;
    const list: ElementInfo[] = [];
    for (const e of sd.snapshot.element as any[]) {
      const rest = e.path.slice(type.length + 1);
      if (!rest || rest.includes('.')) continue;
      const choice = rest.endsWith('[x]');
      list.push({
        name: choice ? rest.slice(0, -3) : rest,
        min: e.min ?? 0,
        max: e.max ?? '*',
        summary: !!e.isSummary,
        modifier: !!e.isModifier,
        types: (e.type ?? []).map((t: any) => (t.code.startsWith('http://hl7.org/fhirpath/') ? 'string' : t.code)),
        choice,
      });
    }
    elements[type] = list;
  }
  const searchParameters: SearchParameterInfo[] = [];
  const compartments: CompartmentInfo[] = [];
  for (const f of files) {
    if (f.startsWith('SearchParameter-')) {
      searchParameters.push(searchParameterInfo(readJson(join(dir, f))));
    } else if (f.startsWith('CompartmentDefinition-') && f !== 'CompartmentDefinition-example.json') {
      const cd = readJson(join(dir, f));
      const resources: Record<string, string[]> = {};
      for (const r of cd.resource ?? []) if (r.param?.length) resources[r.code] = r.param;
      compartments.push({ code: cd.code, resources });
    }
  }
  searchParameters.sort((a, b) => a.url.localeCompare(b.url));
  return {
    fhirVersion: pkg.fhirVersions?.[0] ?? '4.0.1',
    source: `${pkg.name}@${pkg.version}`,
    resourceTypes: Object.keys(elements).sort(),
    elements,
    paths,
    searchParameters,
    compartments,
  };
}

function cachePath(): string {
  const dir = packageDir();
  const version = readJson(join(dir, 'package.json')).version;
  // <project>/node_modules/.cache/migfhir, next to the package the tables come from
  const modules = dir.slice(0, dir.lastIndexOf('node_modules') + 'node_modules'.length);
  return join(modules, '.cache', 'migfhir', `r4-definitions-${version}-v${BUILDER_VERSION}.json`);
}

let loaded: R4Definitions | undefined;

/** The R4 tables, from the cache when present, else built from the package and cached. */
export function loadDefinitions(): R4Definitions {
  if (loaded) return loaded;
  const path = cachePath();
  if (existsSync(path)) {
    loaded = readJson(path) as R4Definitions;
  } else {
    loaded = buildDefinitions();
    try {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(loaded));
      renameSync(tmp, path);
    } catch {
      // A read-only install still works; it just rebuilds the tables at each start.
    }
  }
  return loaded;
}

/** Fast membership and element lookups derived from the tables. */
export class ResourceTypes {
  readonly names: ReadonlySet<string>;
  private readonly byType: Map<string, Map<string, ElementInfo>>;

  readonly defs: R4Definitions;

  constructor(defs: R4Definitions) {
    this.defs = defs;
    this.names = new Set(defs.resourceTypes);
    this.byType = new Map(
      Object.entries(defs.elements).map(([t, list]) => [t, new Map(list.map((e) => [e.name, e]))]),
    );
  }

  has(type: string): boolean {
    return this.names.has(type);
  }

  /** The top-level element `name` (without [x]) of `type`. */
  element(type: string, name: string): ElementInfo | undefined {
    return this.byType.get(type)?.get(name);
  }

  elements(type: string): ElementInfo[] {
    return this.defs.elements[type] ?? [];
  }

  /** The element a JSON property belongs to (`valueQuantity` → `value[x]`, `_birthDate` → birthDate). */
  elementForProperty(type: string, property: string): ElementInfo | undefined {
    const map = this.byType.get(type);
    if (!map) return undefined;
    const key = property.startsWith('_') ? property.slice(1) : property;
    const direct = map.get(key);
    if (direct) return direct;
    for (let i = key.length - 1; i > 0; i--) {
      const c = key.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        const e = map.get(key.slice(0, i));
        if (e?.choice) return e;
      }
    }
    return undefined;
  }
}
