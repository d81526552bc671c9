// Terminology bindings: whether the codes in an element are in the bound value set, judged on
// what the server holds (R4 code systems and expansions, the implementation guide, stored
// resources). Value sets are indexed once into sets of system|code. Codes of systems the
// server cannot hold (SNOMED CT, LOINC …) are never called wrong: the check reports that it
// could not be made (the reference validator's behaviour without a terminology server).
import type { Coding } from 'fhir/r4.js';
import { EXTERNAL_SYSTEMS, TerminologyError, type Terminology } from '../terminology/service.ts';

interface IndexedValueSet {
  /** system|code */
  keys: Set<string>;
  codes: Set<string>;
  /** systems of the value set, to tell "wrong system" from "wrong code" */
  systems: Set<string>;
  /** systems included whole (or by filter) that the server does not hold: their codes cannot be judged */
  open: Set<string>;
}

export type Membership =
  | { verdict: 'in'; display?: string; displays?: string[]; /** the displays trimmed and lower-cased, as a display is compared */ displayKeys?: Set<string> }
  | { verdict: 'out'; message: string }
  | { verdict: 'unknown'; message: string };

export class BindingChecker {
  private readonly terminology: Terminology;
  private readonly index = new Map<string, IndexedValueSet | string>();

  constructor(terminology: Terminology) {
    this.terminology = terminology;
  }

  /** Forgets indexed value sets (a stored ValueSet or CodeSystem changed). */
  reset(): void {
    this.index.clear();
    this.codeVerdicts.clear();
  }

  private indexed(url: string): IndexedValueSet | string {
    let vs = this.index.get(url);
    if (vs !== undefined) return vs;
    try {
      const codes = this.terminology.fullExpansion(url);
      vs = { keys: new Set(), codes: new Set(), systems: new Set(), open: this.terminology.unheldSystems(url) };
      for (const c of codes) {
        if (!c.code) continue;
        vs.keys.add(`${c.system ?? ''}|${c.code}`);
        vs.codes.add(c.code);
        if (c.system) vs.systems.add(c.system);
      }
    } catch (err) {
      if (!(err instanceof TerminologyError)) throw err;
      vs = err.message;
    }
    if (this.index.size > 2000) this.index.clear();
    this.index.set(url, vs);
    return vs;
  }

  /** A `code` primitive: the value set's system is implicit. */
  code(valueSet: string, code: string): Membership {
    const vs = this.indexed(valueSet);
    if (typeof vs === 'string') return { verdict: 'unknown', message: vs };
    if (vs.codes.has(code)) return { verdict: 'in' };
    if (vs.open.size) return { verdict: 'unknown', message: `the value set includes codes of ${[...vs.open].join(', ')}, which this server does not hold` };
    return { verdict: 'out', message: `The code '${code}' is not in the value set ${valueSet}` };
  }

  coding(valueSet: string, c: Coding): Membership {
    if (!c.code) return { verdict: 'unknown', message: 'The coding has no code' };
    const vs = this.indexed(valueSet);
    if (typeof vs === 'string') {
      return { verdict: 'unknown', message: vs };
    }
    if (vs.keys.has(`${c.system ?? ''}|${c.code}`)) return { verdict: 'in' };
    if (!c.system && vs.codes.has(c.code)) return { verdict: 'in' };
    if (c.system && vs.open.has(c.system)) return { verdict: 'unknown', message: `codes of ${c.system} are not held by this server` };
    if (c.system && EXTERNAL_SYSTEMS.has(c.system) && !this.terminology.system(c.system) && !vs.systems.has(c.system)) {
      // a system we cannot hold, in a value set that lists other codes: the value set may still
      // include it through a filter we could not expand
      return { verdict: 'out', message: `The code ${c.system}|${c.code} is not in the value set ${valueSet}` };
    }
    return { verdict: 'out', message: `The code ${c.system ? `${c.system}|` : ''}${c.code} is not in the value set ${valueSet}` };
  }

  /** inCodeSystem's verdicts by system, then code: every Coding is asked about, and most name
   * the same few codes; forgotten with the value sets when a stored CodeSystem or ValueSet changes. */
  private readonly codeVerdicts = new Map<string, Map<string, Membership>>();
  private codeVerdictCount = 0;

  /** Whether the code exists in its code system, when the server holds that system whole. The
   * answer is shared between calls: callers read it, never change it. */
  inCodeSystem(c: Coding): Membership {
    if (!c.system || !c.code) return { verdict: 'unknown', message: 'no system or code' };
    let codes = this.codeVerdicts.get(c.system);
    let m = codes?.get(c.code);
    if (m === undefined) {
      m = this.judgeInCodeSystem(c.system, c.code);
      if (this.codeVerdictCount >= 20_000) this.codeVerdicts.clear();
      if (!this.codeVerdicts.size) this.codeVerdictCount = 0;
      codes = this.codeVerdicts.get(c.system);
      if (!codes) this.codeVerdicts.set(c.system, (codes = new Map()));
      codes.set(c.code, m);
      this.codeVerdictCount++;
    }
    return m;
  }

  private judgeInCodeSystem(system: string, code: string): Membership {
    const c = { system, code };
    const sys = this.terminology.system(c.system);
    if (!sys) {
      return { verdict: 'unknown', message: `The code system ${c.system} is not held by this server, so ${c.code} could not be checked` };
    }
    const content = (sys.resource as { content?: string }).content;
    if (content && content !== 'complete') return { verdict: 'unknown', message: `The code system ${c.system} is held only in part` };
    const concept = sys.concepts.get(c.code);
    if (concept) {
      const displays = [concept.display, ...(concept.designation ?? []).map((d) => d.value)].filter((x): x is string => typeof x === 'string');
      return { verdict: 'in', display: concept.display, displays, displayKeys: new Set(displays.map((x) => x.trim().toLowerCase())) };
    }
    // case-insensitive code systems accept other spellings
    if ((sys.resource as { caseSensitive?: boolean }).caseSensitive === false) {
      for (const k of sys.concepts.keys()) if (k.toLowerCase() === c.code.toLowerCase()) return { verdict: 'in' };
    }
    return { verdict: 'out', message: `Unknown code '${c.code}' in the code system ${c.system}` };
  }
}
