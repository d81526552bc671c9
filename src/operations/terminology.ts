// Terminology operations over what the server holds (src/terminology/service.ts):
// ValueSet/$expand        https://hl7.org/fhir/R4/valueset-operation-expand.html
// CodeSystem/$lookup      https://hl7.org/fhir/R4/codesystem-operation-lookup.html
// ValueSet/$validate-code https://hl7.org/fhir/R4/valueset-operation-validate-code.html
// CodeSystem/$validate-code https://hl7.org/fhir/R4/codesystem-operation-validate-code.html
// ConceptMap/$translate   https://hl7.org/fhir/R4/conceptmap-operation-translate.html
// CodeSystem/$subsumes    https://hl7.org/fhir/R4/codesystem-operation-subsumes.html
import type { CodeSystem, ConceptMap, Parameters, ParametersParameter, ValueSet } from 'fhir/r4.js';
import { badRequest, FhirError, notFound } from '../fhir/errors.ts';
import { authorize } from '../auth/authorize.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { Context, FhirRequest, Handler } from '../rest/types.ts';
import { EXTERNAL_SYSTEMS, TerminologyError } from '../terminology/service.ts';

/** Input parameters from the query string or a Parameters body. */
class Input {
  private readonly req: FhirRequest;
  private readonly params: ParametersParameter[];

  constructor(req: FhirRequest) {
    this.req = req;
    const body = req.body as Parameters | undefined;
    if (body !== undefined && req.method === 'POST' && body.resourceType !== 'Parameters') throw badRequest('The operation takes a Parameters resource', 'invalid');
    this.params = body?.parameter ?? [];
  }

  string(name: string): string | undefined {
    const p = this.params.find((x) => x.name === name);
    const v = p ? (p.valueString ?? p.valueUri ?? p.valueCode ?? p.valueCanonical ?? p.valueUrl) : undefined;
    return v ?? this.req.query[name]?.[0];
  }

  int(name: string): number | undefined {
    const p = this.params.find((x) => x.name === name);
    const v = p?.valueInteger ?? this.req.query[name]?.[0];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`${name} must be a non-negative whole number`, 'value');
    return n;
  }

  bool(name: string): boolean | undefined {
    const p = this.params.find((x) => x.name === name);
    if (p?.valueBoolean !== undefined) return p.valueBoolean;
    const v = this.req.query[name]?.[0];
    return v === undefined ? undefined : v === 'true';
  }

  coding(): { system?: string; code?: string; display?: string } {
    const p = this.params.find((x) => x.name === 'coding' || x.name === 'codeableConcept');
    const c = p?.valueCoding ?? p?.valueCodeableConcept?.coding?.[0];
    if (c) return { system: c.system, code: c.code, display: c.display };
    return { system: this.string('system'), code: this.string('code'), display: this.string('display') };
  }

  resource<T>(name: string): T | undefined {
    return this.params.find((x) => x.name === name)?.resource as T | undefined;
  }
}

function params(list: (ParametersParameter | undefined)[]): Parameters {
  return { resourceType: 'Parameters', parameter: list.filter((p): p is ParametersParameter => !!p) };
}

function termError(err: unknown): never {
  if (err instanceof TerminologyError) {
    throw new FhirError(err.kind === 'not-found' ? 404 : 422, { code: err.kind === 'not-found' ? 'not-found' : err.kind, diagnostics: err.message });
  }
  throw err;
}

async function stored<T>(ctx: Context, type: string, id: string): Promise<T> {
  const v = await ctx.repo.read(type, id);
  return JSON.parse(v.json!) as T;
}

export const expand: Handler = async (req, ctx) => {
  authorize(req.auth, 'ValueSet', 'r');
  const input = new Input(req);
  let vs: ValueSet | undefined;
  let key: string | ValueSet;
  if (req.id) {
    vs = await stored<ValueSet>(ctx, 'ValueSet', req.id);
    key = vs.url ?? vs;
  } else if (input.resource<ValueSet>('valueSet')) {
    vs = input.resource<ValueSet>('valueSet')!;
    key = vs;
  } else {
    const url = input.string('url');
    if (!url) throw badRequest('$expand needs a url, a valueSet, or a ValueSet id', 'required');
    vs = ctx.terminology.valueSet(url);
    if (!vs) throw notFound(`Value set ${url.slice(0, 200)} is not known to this server`);
    key = url;
  }
  try {
    const out = ctx.terminology.expand(vs, key, {
      filter: input.string('filter'),
      count: input.int('count'),
      offset: input.int('offset'),
      displayLanguage: input.string('displayLanguage'),
      includeDesignations: input.bool('includeDesignations'),
      activeOnly: input.bool('activeOnly'),
    });
    return { status: 200, body: out };
  } catch (err) {
    return termError(err);
  }
};

export const lookup: Handler = async (req, ctx) => {
  authorize(req.auth, 'CodeSystem', 'r');
  const input = new Input(req);
  const { system, code } = input.coding();
  if (!system || !code) throw badRequest('$lookup needs system and code (or coding)', 'required');
  const sys = ctx.terminology.system(system);
  if (!sys) {
    throw notFound(EXTERNAL_SYSTEMS.has(system) ? `${system} is not held by this server (its content is licensed or too large); look it up on a terminology server` : `Code system ${system.slice(0, 200)} is not known to this server`);
  }
  const c = sys.concepts.get(code);
  if (!c) throw notFound(`${code.slice(0, 100)} is not a code of ${system}`);
  const lang = input.string('displayLanguage')?.toLowerCase();
  const localized = lang ? c.designation?.find((d) => d.language?.toLowerCase() === lang)?.value : undefined;
  const cs = sys.resource;
  return {
    status: 200,
    body: params([
      { name: 'name', valueString: cs.name ?? cs.title ?? system },
      ...(cs.version ? [{ name: 'version', valueString: cs.version }] : []),
      ...(localized ?? c.display ? [{ name: 'display', valueString: localized ?? c.display }] : []),
      ...(c.definition ? [{ name: 'definition', valueString: c.definition }] : []),
      ...(c.designation ?? []).map((d) => ({ name: 'designation', part: [...(d.language ? [{ name: 'language', valueCode: d.language }] : []), ...(d.use ? [{ name: 'use', valueCoding: d.use as never }] : []), { name: 'value', valueString: d.value }] })),
      { name: 'property', part: [{ name: 'code', valueCode: 'inactive' }, { name: 'value', valueBoolean: c.inactive }] },
      ...c.parents.map((p) => ({ name: 'property', part: [{ name: 'code', valueCode: 'parent' }, { name: 'value', valueCode: p }] })),
      ...c.children.map((p) => ({ name: 'property', part: [{ name: 'code', valueCode: 'child' }, { name: 'value', valueCode: p }] })),
    ]),
  };
};

export const validateCode: Handler = async (req, ctx) => {
  const type = req.resourceType ?? (req.compartmentType as string);
  authorize(req.auth, type, 'r');
  const input = new Input(req);
  const { system, code, display } = input.coding();
  if (!code) throw badRequest('$validate-code needs a code (or coding)', 'required');
  let result: boolean | undefined;
  let message: string | undefined;
  let foundDisplay: string | undefined;
  if (type === 'CodeSystem') {
    const url = req.id ? (await stored<CodeSystem>(ctx, 'CodeSystem', req.id)).url : (input.string('url') ?? system);
    if (!url) throw badRequest('CodeSystem/$validate-code needs url (or system)', 'required');
    const sys = ctx.terminology.system(url);
    if (!sys) {
      message = EXTERNAL_SYSTEMS.has(url) ? `Codes of ${url} cannot be checked here` : `Code system ${url} is not known to this server`;
    } else {
      const c = sys.concepts.get(code);
      result = !!c;
      foundDisplay = c?.display;
      if (!c) message = `${code} is not a code of ${url}`;
      else if (c.inactive) message = `${code} is inactive in ${url}`;
    }
  } else {
    const url = req.id ? (await stored<ValueSet>(ctx, 'ValueSet', req.id)).url : input.string('url');
    if (!url) throw badRequest('ValueSet/$validate-code needs url (or a ValueSet id)', 'required');
    if (!ctx.terminology.valueSet(url)) throw notFound(`Value set ${url.slice(0, 200)} is not known to this server`);
    try {
      const r = ctx.terminology.inValueSet(url, system, code);
      result = r.result;
      message = r.message;
      foundDisplay = r.display;
    } catch (err) {
      return termError(err);
    }
  }
  if (result && display && foundDisplay && display !== foundDisplay) message = `The display '${display}' is not the display '${foundDisplay}' of ${code}`;
  return {
    status: 200,
    body: params([
      // a code whose system cannot be checked here is reported without a verdict of false
      { name: 'result', valueBoolean: result ?? false },
      ...(message ? [{ name: 'message', valueString: result === undefined ? `${message} (not checked)` : message }] : []),
      ...(foundDisplay ? [{ name: 'display', valueString: foundDisplay }] : []),
    ]),
  };
};

export const translate: Handler = async (req, ctx) => {
  authorize(req.auth, 'ConceptMap', 'r');
  const input = new Input(req);
  const { system, code } = input.coding();
  if (!system || !code) throw badRequest('$translate needs system and code (or coding)', 'required');
  const target = input.string('targetsystem') ?? input.string('target');
  let maps: ConceptMap[];
  if (req.id) maps = [await stored<ConceptMap>(ctx, 'ConceptMap', req.id)];
  else if (input.string('url')) {
    const m = ctx.terminology.conceptMap(input.string('url')!);
    if (!m) throw notFound(`Concept map ${input.string('url')!.slice(0, 200)} is not known to this server`);
    maps = [m];
  } else maps = ctx.terminology.conceptMaps().filter((m) => (m.group ?? []).some((g) => g.source === system && (!target || g.target === target)));
  const matches: ParametersParameter[] = [];
  for (const m of maps) {
    for (const g of m.group ?? []) {
      if (g.source && g.source !== system) continue;
      if (target && g.target && g.target !== target) continue;
      for (const e of g.element ?? []) {
        if (e.code !== code) continue;
        for (const t of e.target ?? []) {
          matches.push({
            name: 'match',
            part: [
              { name: 'equivalence', valueCode: t.equivalence },
              ...(t.code ? [{ name: 'concept', valueCoding: { system: g.target, code: t.code, ...(t.display ? { display: t.display } : {}) } }] : []),
              { name: 'source', valueUri: m.url },
            ],
          });
        }
      }
    }
  }
  const positive = matches.some((x) => !['unmatched', 'disjoint'].includes(String(x.part?.[0]?.valueCode)));
  return {
    status: 200,
    body: params([{ name: 'result', valueBoolean: positive }, ...(positive ? [] : [{ name: 'message', valueString: `No mapping for ${system}|${code}` }]), ...matches]),
  };
};

export const subsumes: Handler = async (req, ctx) => {
  authorize(req.auth, 'CodeSystem', 'r');
  const input = new Input(req);
  const system = input.string('system');
  const a = input.string('codeA');
  const b = input.string('codeB');
  if (!system || !a || !b) throw badRequest('$subsumes needs system, codeA and codeB', 'required');
  const sys = ctx.terminology.system(system);
  if (!sys) throw notFound(`Code system ${system.slice(0, 200)} is not held by this server`);
  for (const c of [a, b]) if (!sys.concepts.has(c)) throw notFound(`${c.slice(0, 100)} is not a code of ${system}`);
  const above = (c: string) => new Set(ctx.terminology.related(system, c, 'above'));
  const outcome = a === b ? 'equivalent' : above(b).has(a) ? 'subsumes' : above(a).has(b) ? 'subsumed-by' : 'not-subsumed';
  return { status: 200, body: params([{ name: 'outcome', valueCode: outcome }]) };
};

const CODING_IN = [
  ...parametersOf('in', 'code:code system:uri display:string coding:Coding codeableConcept:CodeableConcept'),
] as const;
const VALIDATE_CODE_OUT = [
  ...parametersOf('out', 'result:boolean! message:string display:string'),
] as const;

export const expandOperation = defineOperation({
  code: 'expand',
  id: 'ValueSet-expand',
  title: 'Value Set Expansion',
  description: 'Expands a value set this server holds (by id, url, or given as valueSet).',
  base: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
  levels: ['type', 'instance'],
  resourceTypes: ['ValueSet'],
  get: true,
  access: ['r'],
  parameters: [
    ...parametersOf('in', 'url:uri valueSet:ValueSet filter:string count:integer offset:integer displayLanguage:code includeDesignations:boolean activeOnly:boolean'),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'ValueSet' },
  ],
  handler: expand,
});

export const lookupOperation = defineOperation({
  code: 'lookup',
  id: 'CodeSystem-lookup',
  title: 'Concept Look Up & Decomposition',
  description: 'Details of a code of a code system this server holds.',
  base: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
  levels: ['type'],
  resourceTypes: ['CodeSystem'],
  get: true,
  access: ['r'],
  parameters: [
    ...CODING_IN,
    { name: 'displayLanguage', use: 'in', min: 0, max: '1', type: 'code' },
    ...parametersOf('out', 'name:string! version:string display:string definition:string'),
    {
      name: 'designation', use: 'out', min: 0, max: '*', part: [
        ...parametersOf('out', 'language:code use:Coding value:string!'),
      ],
    },
    {
      name: 'property', use: 'out', min: 0, max: '*', part: [
        ...parametersOf('out', 'code:code! value:code!', { value: 'valueBoolean for inactive, valueCode for parent and child' }),
      ],
    },
  ],
  handler: lookup,
});

/** $validate-code exists twice: against a value set and against a code system. */
function validateCodeOn(type: 'ValueSet' | 'CodeSystem', title: string, description: string) {
  return defineOperation({
    code: 'validate-code',
    id: `${type}-validate-code`,
    title,
    description,
    base: `http://hl7.org/fhir/OperationDefinition/${type}-validate-code`,
    levels: ['type', 'instance'],
    resourceTypes: [type],
    get: true,
    access: ['r'],
    parameters: [{ name: 'url', use: 'in', min: 0, max: '1', type: 'uri' }, ...CODING_IN, ...VALIDATE_CODE_OUT],
    handler: validateCode,
  });
}

export const valueSetValidateCodeOperation = validateCodeOn('ValueSet', 'Value Set based Validation', 'Whether a code is in a value set this server holds.');
export const codeSystemValidateCodeOperation = validateCodeOn('CodeSystem', 'Code System based Validation', 'Whether a code is in a code system this server holds.');

export const translateOperation = defineOperation({
  code: 'translate',
  id: 'ConceptMap-translate',
  title: 'Concept Translation',
  description: 'Translates a code with the concept maps this server holds.',
  base: 'http://hl7.org/fhir/OperationDefinition/ConceptMap-translate',
  levels: ['type', 'instance'],
  resourceTypes: ['ConceptMap'],
  get: true,
  access: ['r'],
  parameters: [
    { name: 'url', use: 'in', min: 0, max: '1', type: 'uri' },
    ...CODING_IN,
    ...parametersOf('in', 'targetsystem:uri target:uri'),
    ...parametersOf('out', 'result:boolean! message:string'),
    {
      name: 'match', use: 'out', min: 0, max: '*', part: [
        ...parametersOf('out', 'equivalence:code concept:Coding source:uri'),
      ],
    },
  ],
  handler: translate,
});

export const subsumesOperation = defineOperation({
  code: 'subsumes',
  id: 'CodeSystem-subsumes',
  title: 'Subsumption Testing',
  description: 'The subsumption relationship between two codes of a code system this server holds.',
  base: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes',
  levels: ['type'],
  resourceTypes: ['CodeSystem'],
  get: true,
  access: ['r'],
  parameters: [
    ...parametersOf('in', 'codeA:code! codeB:code! system:uri!'),
    { name: 'outcome', use: 'out', min: 1, max: '1', type: 'code' },
  ],
  handler: subsumes,
});
