// Terminology over everything the server holds: the R4 code systems, value sets (with the
// official pre-computed expansions) and concept maps of the definitions packages, plus the
// CodeSystem, ValueSet and ConceptMap resources stored on the server (kept in step through
// the repository's commit listener). Codes of systems that cannot be held here (SNOMED CT,
// LOINC, UCUM) are never judged wrong: operations say they could not be checked.
import type { CodeSystem, CodeSystemConcept, ConceptMap, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from 'fhir/r4.js';
import { canonicalUrl } from '../fhir/reference.ts';
import { foldString } from '../search/normalize.ts';
import { packageIndex, readResource } from './package-index.ts';

export const EXTERNAL_SYSTEMS = new Set(['http://snomed.info/sct', 'http://loinc.org', 'http://unitsofmeasure.org', 'urn:ietf:bcp:47', 'urn:iso:std:iso:3166', 'http://www.nlm.nih.gov/research/umls/rxnorm', 'http://hl7.org/fhir/sid/icd-10']);

export interface Concept {
  code: string;
  display?: string;
  definition?: string;
  designation?: { language?: string; use?: unknown; value: string }[];
  properties: { code: string; value: unknown }[];
  parents: string[];
  children: string[];
  inactive: boolean;
}

interface IndexedSystem {
  resource: CodeSystem;
  concepts: Map<string, Concept>;
}

export class TerminologyError extends Error {
  readonly kind: 'not-found' | 'not-supported' | 'too-costly';
  constructor(kind: TerminologyError['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ExpandOptions {
  filter?: string;
  count?: number;
  offset?: number;
  displayLanguage?: string;
  includeDesignations?: boolean;
  activeOnly?: boolean;
}

const MAX_EXPANSION = 10000;

export class Terminology {
  private readonly stored = { CodeSystem: new Map<string, CodeSystem>(), ValueSet: new Map<string, ValueSet>(), ConceptMap: new Map<string, ConceptMap>() };
  /** terminology of the IG package loaded at start-up: below stored resources, above the R4 packages */
  private readonly packaged = { CodeSystem: new Map<string, CodeSystem>(), ValueSet: new Map<string, ValueSet>(), ConceptMap: new Map<string, ConceptMap>() };
  private readonly systems = new Map<string, IndexedSystem>();
  /** urls of code systems known not to be held (no concepts), cleared with `systems` */
  private readonly notHeld = new Set<string>();
  /** folded search words of each expansion entry, computed once per expansion */
  private readonly words = new WeakMap<ValueSetExpansionContains[], string[][]>();
  /** expansions by value set url; cleared whenever a stored terminology resource changes */
  private readonly expansions = new Map<string, ValueSetExpansionContains[]>();

  /** Registers (or, with json null, forgets) a stored terminology resource. */
  track(type: 'CodeSystem' | 'ValueSet' | 'ConceptMap', previousUrl: string | undefined, resource: { url?: string } | null): void {
    const map = this.stored[type] as Map<string, unknown>;
    if (previousUrl) map.delete(previousUrl);
    if (resource?.url) map.set(resource.url, resource);
    if (type === 'CodeSystem') {
      this.systems.clear();
      this.notHeld.clear();
    }
    this.expansions.clear();
  }

  /** Adds a package's terminology (the IG's), found unless a stored resource has the same url. */
  addPackage(resources: { codeSystems: CodeSystem[]; valueSets: ValueSet[]; conceptMaps: ConceptMap[] }): void {
    for (const r of resources.codeSystems) if (r.url) this.packaged.CodeSystem.set(r.url, r);
    for (const r of resources.valueSets) if (r.url) this.packaged.ValueSet.set(r.url, r);
    for (const r of resources.conceptMaps) if (r.url) this.packaged.ConceptMap.set(r.url, r);
    this.systems.clear();
    this.notHeld.clear();
    this.expansions.clear();
  }

  /** A stored resource of that url, else the packages' (the url may carry |version). */
  private find<T>(type: 'CodeSystem' | 'ValueSet' | 'ConceptMap', url: string): T | undefined {
    const u = canonicalUrl(url);
    const s = (this.stored[type] as Map<string, unknown>).get(u);
    if (s) return s as T;
    const p = (this.packaged[type] as Map<string, unknown>).get(u);
    if (p) return p as T;
    const index = packageIndex();
    const file = (type === 'CodeSystem' ? index.codeSystems : type === 'ValueSet' ? index.valueSets : index.conceptMaps)[u];
    return file ? readResource<T>(file) : undefined;
  }

  codeSystem(url: string): CodeSystem | undefined {
    return this.find<CodeSystem>('CodeSystem', url);
  }

  valueSet(url: string): ValueSet | undefined {
    return this.find<ValueSet>('ValueSet', url);
  }

  conceptMap(url: string): ConceptMap | undefined {
    return this.find<ConceptMap>('ConceptMap', url);
  }

  conceptMaps(): ConceptMap[] {
    return [...this.stored.ConceptMap.values(), ...this.packaged.ConceptMap.values(), ...Object.values(packageIndex().conceptMaps).map((f) => readResource<ConceptMap>(f))];
  }

  /** The indexed concepts of a code system, or undefined when the server does not hold it. */
  system(url: string): IndexedSystem | undefined {
    const u = canonicalUrl(url);
    let s = this.systems.get(u);
    if (s) return s;
    // systems without concepts (not held, or content not-present) are remembered too: the
    // validator asks for every Coding it sees
    if (this.notHeld.has(u)) return undefined;
    const cs = this.codeSystem(u);
    if (!cs || !cs.concept?.length) {
      this.notHeld.add(u);
      return undefined;
    }
    const concepts = new Map<string, Concept>();
    const walk = (list: CodeSystemConcept[], parent?: string) => {
      for (const c of list) {
        const props = (c.property ?? []).map((p) => ({ code: p.code, value: p.valueCode ?? p.valueString ?? p.valueBoolean ?? p.valueInteger ?? p.valueDateTime ?? p.valueCoding ?? p.valueDecimal }));
        const concept: Concept = concepts.get(c.code) ?? {
          code: c.code, display: c.display, definition: c.definition,
          designation: (c.designation ?? []).map((d) => ({ language: d.language, use: d.use, value: d.value })),
          properties: props, parents: [], children: [],
          inactive: props.some((p) => (p.code === 'status' && (p.value === 'retired' || p.value === 'deprecated')) || (p.code === 'inactive' && p.value === true)),
        };
        if (parent) {
          concept.parents.push(parent);
          concepts.get(parent)!.children.push(c.code);
        }
        for (const p of props) if ((p.code === 'parent' || p.code === 'subsumedBy') && typeof p.value === 'string') concept.parents.push(p.value);
        concepts.set(c.code, concept);
        if (c.concept?.length) walk(c.concept, c.code);
      }
    };
    walk(cs.concept);
    for (const c of concepts.values()) for (const p of c.parents) if (!concepts.get(p)?.children.includes(c.code)) concepts.get(p)?.children.push(c.code);
    s = { resource: cs, concepts };
    this.systems.set(u, s);
    return s;
  }

  /** A code with its descendants (below) or ancestors (above); undefined when not held. */
  related(system: string, code: string, direction: 'below' | 'above'): string[] | undefined {
    const sys = this.system(system);
    if (!sys || !sys.concepts.has(code)) return sys ? [code] : undefined;
    if (direction === 'below') return this.descendants(sys, code, true);
    const out = [code];
    const stack = [...sys.concepts.get(code)!.parents];
    while (stack.length) {
      const c = stack.pop()!;
      if (out.includes(c)) continue;
      out.push(c);
      stack.push(...(sys.concepts.get(c)?.parents ?? []));
    }
    return out;
  }

  /** code and all its descendants */
  private descendants(sys: IndexedSystem, code: string, self: boolean): string[] {
    const out: string[] = self ? [code] : [];
    const seen = new Set<string>();
    const stack = [...(sys.concepts.get(code)?.children ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
      stack.push(...(sys.concepts.get(c)?.children ?? []));
    }
    return out;
  }

  private include(inc: ValueSetComposeInclude, depth: number): ValueSetExpansionContains[] {
    let sets: ValueSetExpansionContains[][] = [];
    if (inc.valueSet?.length) sets = inc.valueSet.map((u) => this.fullExpansion(u, depth + 1));
    if (inc.system) {
      const sys = this.system(inc.system);
      const entry = (code: string, display?: string): ValueSetExpansionContains => ({ system: inc.system, code, ...(display ?? sys?.concepts.get(code)?.display ? { display: display ?? sys?.concepts.get(code)?.display } : {}) });
      // designations enumerated in the value set (codes of systems not held here, such as ISO 3166)
      if (inc.concept?.length) sets.push(inc.concept.map((c) => ({ ...entry(c.code, c.display), ...(c.designation?.length ? { designation: c.designation } : {}) })));
      else {
        if (!sys) throw new TerminologyError('too-costly', `The code system ${inc.system} is not held by this server, so the value set cannot be expanded`);
        let codes = [...sys.concepts.keys()];
        for (const f of inc.filter ?? []) {
          if ((f.property === 'concept' || f.property === 'code') && (f.op === 'is-a' || f.op === 'descendent-of')) {
            const allowed = new Set(this.descendants(sys, f.value, f.op === 'is-a'));
            codes = codes.filter((c) => allowed.has(c));
          } else if (f.op === '=' ) {
            codes = codes.filter((c) => sys.concepts.get(c)!.properties.some((p) => p.code === f.property && String(p.value) === f.value));
          } else {
            throw new TerminologyError('not-supported', `Value set filter ${f.property} ${f.op} is not supported`);
          }
        }
        sets.push(codes.map((c) => entry(c)));
      }
    }
    if (!sets.length) return [];
    // a system together with value sets: the intersection
    const [first, ...rest] = sets;
    return first.filter((c) => rest.every((s) => s.some((x) => x.system === c.system && x.code === c.code)));
  }

  /** Every code of a value set (the package's official expansion when there is one). */
  fullExpansion(urlOrVs: string | ValueSet, depth = 0): ValueSetExpansionContains[] {
    if (typeof urlOrVs !== 'string') return this.computeExpansion(urlOrVs, depth);
    let codes = this.expansions.get(urlOrVs);
    if (!codes) {
      codes = this.computeExpansion(urlOrVs, depth);
      if (this.expansions.size > 500) this.expansions.clear();
      this.expansions.set(urlOrVs, codes);
    }
    return codes;
  }

  private computeExpansion(urlOrVs: string | ValueSet, depth: number): ValueSetExpansionContains[] {
    if (depth > 10) throw new TerminologyError('too-costly', 'Value sets include each other too deeply');
    const vs = typeof urlOrVs === 'string' ? this.valueSet(urlOrVs) : urlOrVs;
    if (!vs) throw new TerminologyError('not-found', `Value set ${String(urlOrVs).slice(0, 200)} is not known to this server`);
    const pre = typeof urlOrVs === 'string' && !this.stored.ValueSet.has(canonicalUrl(urlOrVs)) ? packageIndex().expansions[canonicalUrl(urlOrVs)] : undefined;
    if (pre) {
      const flat: ValueSetExpansionContains[] = [];
      const walk = (list?: ValueSetExpansionContains[]) => {
        for (const c of list ?? []) {
          if (c.code) flat.push({ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}), ...(c.inactive ? { inactive: true } : {}) });
          walk(c.contains);
        }
      };
      walk(readResource<ValueSet>(pre).expansion?.contains);
      return flat;
    }
    if (vs.expansion?.contains?.length && !vs.compose) return vs.expansion.contains;
    if (!vs.compose) throw new TerminologyError('not-found', `Value set ${vs.url} has neither a compose nor an expansion`);
    let out: ValueSetExpansionContains[] = [];
    for (const inc of vs.compose.include ?? []) out.push(...this.include(inc, depth));
    for (const exc of vs.compose.exclude ?? []) {
      const drop = new Set(this.include(exc, depth).map((c) => `${c.system}|${c.code}`));
      out = out.filter((c) => !drop.has(`${c.system}|${c.code}`));
    }
    const seen = new Set<string>();
    out = out.filter((c) => {
      const k = `${c.system}|${c.code}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    if (out.length > MAX_EXPANSION) throw new TerminologyError('too-costly', `The expansion has more than ${MAX_EXPANSION} codes`);
    return out;
  }

  /** An include of a whole code system (no codes, filters or value sets) the server does not hold. */
  private wholeUnheld(inc: ValueSetComposeInclude): boolean {
    return !!inc.system && !inc.concept?.length && !inc.filter?.length && !inc.valueSet?.length && !this.system(inc.system);
  }

  /** Systems a value set (and the value sets it includes) takes whole without the server holding
   * them: their codes cannot be judged. */
  unheldSystems(url: string, depth = 0): Set<string> {
    const out = new Set<string>();
    const vs = this.valueSet(url);
    if (!vs || depth > 5) return out;
    for (const inc of vs.compose?.include ?? []) {
      if (this.wholeUnheld(inc)) out.add(inc.system!);
      for (const u of inc.valueSet ?? []) for (const sys of this.unheldSystems(u, depth + 1)) out.add(sys);
    }
    return out;
  }

  /** The codes of a value set for search (:in, :not-in). When it cannot be expanded because it
   * includes a whole code system the server does not hold (all of BCP-47, of SNOMED CT), that
   * include stands for every code of the system: an entry with a system and no code. */
  searchMembers(url: string): ValueSetExpansionContains[] {
    try {
      return this.fullExpansion(url);
    } catch (err) {
      if (!(err instanceof TerminologyError) || err.kind !== 'too-costly') throw err;
      const vs = this.valueSet(url);
      const compose = vs?.compose;
      if (!vs || !compose || compose.exclude?.length) throw err;
      const whole = compose.include.filter((inc) => this.wholeUnheld(inc));
      if (!whole.length) throw err;
      const rest = compose.include.filter((inc) => !whole.includes(inc));
      const others = rest.length ? this.fullExpansion({ ...vs, compose: { ...compose, include: rest } }) : [];
      return [...whole.map((inc) => ({ system: inc.system })), ...others];
    }
  }

  /** $expand: the value set with an expansion, filtered and paged. */
  expand(vs: ValueSet, key: string | ValueSet, o: ExpandOptions): ValueSet {
    let codes = this.fullExpansion(key);
    if (o.activeOnly) codes = codes.filter((c) => !c.inactive);
    const lang = o.displayLanguage?.toLowerCase();
    const decorated = codes.map((c) => {
      const concept = c.system ? this.system(c.system)?.concepts.get(c.code!) : undefined;
      const designations = concept?.designation ?? c.designation ?? [];
      const localized = lang ? designations.find((d) => d.language?.toLowerCase() === lang || d.language?.toLowerCase().startsWith(`${lang}-`))?.value : undefined;
      const { designation: _d, ...plain } = c;
      void _d;
      const entry = {
        ...plain,
        ...(localized ? { display: localized } : {}),
        ...(o.includeDesignations && designations.length ? { designation: designations.map((d) => ({ ...(d.language ? { language: d.language } : {}), ...(d.use ? { use: d.use } : {}), value: d.value })) } : {}),
      } as ValueSetExpansionContains;
      return { entry };
    });
    let filtered = decorated;
    if (o.filter) {
      // the filter matches displays in every language, accent- and case-insensitively; the
      // folded words are kept with the (cached) expansion, so a filter costs one scan
      let words = this.words.get(codes);
      if (!words) {
        words = codes.map((c) => {
          const concept = c.system ? this.system(c.system)?.concepts.get(c.code!) : undefined;
          return [c.code ?? '', c.display ?? '', ...(concept?.designation ?? c.designation ?? []).map((d) => d.value)].map(foldString);
        });
        this.words.set(codes, words);
      }
      const f = foldString(o.filter);
      filtered = decorated.filter((_, i) => words[i][0].startsWith(f) || words[i].slice(1).some((w) => w.includes(f)));
    }
    const offset = o.offset ?? 0;
    const page = (o.count !== undefined ? filtered.slice(offset, offset + o.count) : filtered.slice(offset)).map((d) => d.entry);
    // the definition (compose) is left out: the expansion is the answer, and an enumerated value
    // set with designations (the IG's countries: 500 KB) would make every answer that large
    const { expansion: _e, compose: _c, ...rest } = vs;
    void _e;
    void _c;
    return {
      ...rest,
      expansion: {
        identifier: `urn:uuid:${crypto.randomUUID()}`,
        timestamp: new Date().toISOString(),
        total: filtered.length,
        ...(offset ? { offset } : {}),
        parameter: [
          ...(o.filter ? [{ name: 'filter', valueString: o.filter }] : []),
          ...(o.count !== undefined ? [{ name: 'count', valueInteger: o.count }] : []),
          ...(o.displayLanguage ? [{ name: 'displayLanguage', valueCode: o.displayLanguage }] : []),
        ],
        ...(page.length ? { contains: page } : {}),
      },
    };
  }

  /** Whether system|code is in the value set: true, false, or undefined when it cannot be told. */
  inValueSet(url: string, system: string | undefined, code: string): { result?: boolean; display?: string; message?: string } {
    let codes: ValueSetExpansionContains[];
    try {
      codes = this.fullExpansion(url);
    } catch (err) {
      if (err instanceof TerminologyError && err.kind === 'too-costly') return { message: err.message };
      throw err;
    }
    const hit = codes.find((c) => c.code === code && (!system || c.system === system));
    if (hit) return { result: true, display: hit.display };
    if (system && EXTERNAL_SYSTEMS.has(system) && !this.system(system)) {
      return { message: `Codes of ${system} cannot be checked here; ${code} is not in the value set's enumerated codes` , result: false };
    }
    return { result: false, message: `${system ? `${system}|` : ''}${code} is not in the value set ${url}` };
  }
}
