// QuestionnaireResponse/$score (server-specific; inspired by Structured Data Capture,
// https://build.fhir.org/ig/HL7/sdc/ — its answer scores (ordinalValue/itemWeight), its
// calculatedExpression with the FHIRPath weight() function, and $extract's idea of turning a
// response into Observations). Contract:
//   POST [base]/QuestionnaireResponse/$score        body: the QuestionnaireResponse, or Parameters
//        with `questionnaire-response` (resource) and optional `persist` (boolean)
//   POST [base]/QuestionnaireResponse/[id]/$score   scores the stored current version; body empty
//        or Parameters with `persist`
//   `persist` may also be given in the query (?persist=true).
// The Questionnaire is QuestionnaireResponse.questionnaire (canonical url, optionally |version):
// a stored Questionnaire first, then the implementation guide's (or a contained one, '#id'). The answers are checked
// (src/questionnaire/answers.ts: 422 naming the linkId of a missing required answer, of an
// answer outside the answer options, of an unknown item), then scored
// (src/questionnaire/scoring.ts). The answer is 200 with an Observation: code = the total
// item's code (LOINC 44261-6 for PHQ-9, 70274-6 for GAD-7), valueInteger = the total,
// interpretation and a component with the suggested referral category from the questionnaire's
// score-interpretation bands, subject/encounter/effective from the response, derivedFrom the
// response, and the response's security labels (a score is as sensitive as its answers).
// With persist=true the Observation is stored (201 with Location, or 200 when it replaced the
// earlier score of the same stored response) in one transaction with, for a response sent in the
// body, the response itself. No ServiceRequest is created: a band only suggests a category, and a
// referral needs a clinician's decision on requester, performer and priority (ReferralServiceRequest).
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Bundle, BundleEntry, CodeableConcept, Observation, Parameters, Questionnaire, QuestionnaireResponse, Resource } from 'fhir/r4.js';
import { allows, authorize, forbidden } from '../auth/authorize.ts';
import { badRequest, FhirError, notFound, unprocessable } from '../fhir/errors.ts';
import { ResourceJson, resourceOf } from '../fhir/body.ts';
import { formatReference } from '../fhir/reference.ts';
import { checkAnswers } from '../questionnaire/answers.ts';
import { scoreResponse, type Total } from '../questionnaire/scoring.ts';
import { bundle } from '../rest/bundle.ts';
import { defineOperation, parametersOf } from './types.ts';
import { criteria } from '../rest/conditional.ts';
import { labelSensitive, REDACTED, seesSensitive, viewFor } from '../auth/sensitive.ts';
import { markAnswers, resolveQuestionnaire, scoresDependOn, sensitiveLinkIds, storedQuestionnaires } from '../questionnaire/sensitive-items.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from '../rest/types.ts';
import { EXTERNAL_SYSTEMS } from '../terminology/service.ts';
import { checkShape } from '../validation/shape.ts';

const SURVEY = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' }] };
/** Observation.component.code of the suggested referral (SNOMED CT, referenced by code only). */
const REFERRAL = { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }], text: 'Suggested referral category' };
const STATUS: Record<string, Observation['status'] | undefined> = { completed: 'final', amended: 'final', 'in-progress': 'preliminary', stopped: 'preliminary' };

interface Input {
  response?: QuestionnaireResponse;
  persist: boolean;
}

function bool(value: unknown, where: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(`${where} must be true or false`, 'value');
}

function readInput(req: FhirRequest): Input {
  const q = req.query.persist?.[0];
  const input: Input = { persist: q === undefined ? false : bool(q, 'persist') };
  const body = req.body as Resource | undefined;
  if (body === undefined || body === null) return input;
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('$score takes a QuestionnaireResponse or a Parameters resource', 'structure');
  if (body.resourceType === 'QuestionnaireResponse') input.response = body as QuestionnaireResponse;
  else if (body.resourceType === 'Parameters') {
    for (const p of (body as Parameters).parameter ?? []) {
      if (p.name === 'questionnaire-response') input.response = p.resource as QuestionnaireResponse;
      else if (p.name === 'persist') input.persist = bool(p.valueBoolean, 'Parameter persist');
      else throw badRequest(`Unknown $score parameter '${String(p.name).slice(0, 64)}'`, 'not-supported');
    }
  } else throw badRequest(`$score takes a QuestionnaireResponse or a Parameters resource, not ${String(body.resourceType).slice(0, 64)}`, 'invalid', ['resourceType']);
  if (input.response !== undefined && req.id) throw badRequest('QuestionnaireResponse/[id]/$score scores the stored response; send no response in the body', 'invalid');
  if (input.response !== undefined && (input.response?.resourceType !== 'QuestionnaireResponse')) {
    throw badRequest('Parameter questionnaire-response must hold a QuestionnaireResponse', 'invalid');
  }
  return input;
}

/** The Questionnaire a response answers: contained, stored (when the client may read
 * Questionnaires), else the IG's. */
function findQuestionnaire(req: FhirRequest, ctx: Context, qr: QuestionnaireResponse): Promise<Questionnaire | undefined> {
  const ig = ctx.ig?.questionnaires ?? [];
  const stored = storedQuestionnaires({ current: (type, id) => ctx.repo.store.current(type, id), search: (q) => ctx.repo.search(q) }, ctx.searchParser, ig);
  const readable = allows(req.auth, 'Questionnaire', 'r');
  return resolveQuestionnaire(qr, {
    ig,
    byId: async (id) => (readable ? stored.byId(id) : undefined),
    byUrl: async (url, version) => (readable ? stored.byUrl(url, version) : undefined),
  });
}

/** A copy of the CodeableConcept with the displays the server's terminology knows. */
function withDisplays(ctx: Context, cc: CodeableConcept | undefined): CodeableConcept | undefined {
  if (!cc) return undefined;
  const coding = cc.coding?.map((c) => {
    const display = c.display ?? (c.system && c.code ? ctx.terminology.system(c.system)?.concepts.get(c.code)?.display : undefined);
    return { ...c, ...(display ? { display } : {}) };
  });
  const text = cc.text ?? coding?.find((c) => c.display)?.display;
  return { ...cc, ...(coding ? { coding } : {}), ...(text ? { text } : {}) };
}

function observation(ctx: Context, q: Questionnaire, qr: QuestionnaireResponse, total: Total, derivedFrom: string | undefined): Observation {
  const item = total.item;
  const code: CodeableConcept = item?.code?.length
    ? { coding: item.code, ...(item.text ? { text: item.text } : {}) } // the item's text is not the code's display
    : { text: item?.text ?? `${q.title ?? q.name ?? 'Questionnaire'} total score` };
  const interpretation = withDisplays(ctx, total.band?.interpretation);
  // an item alert (PHQ-9 item 9) suggests its referral even when the total's band does not
  const referral = withDisplays(ctx, total.band?.referral ?? total.alerts?.find((a) => a.referral)?.referral);
  const alerts = (total.alerts ?? []).map((a) => ({ item: a.item, alert: withDisplays(ctx, a.alert)! }));
  const components = [
    ...(referral ? [{ code: REFERRAL, valueCodeableConcept: referral }] : []),
    // each alert as the alerting item's code with the alert as its value
    ...alerts.map((a) => ({ code: a.item.code?.length ? { coding: a.item.code, ...(a.item.text ? { text: a.item.text } : {}) } : { text: a.item.text ?? a.item.linkId }, valueCodeableConcept: a.alert })),
  ];
  const interpretations = [...(interpretation ? [interpretation] : []), ...alerts.map((a) => a.alert)];
  // a score is as sensitive as its answers; REDACTED says what a view lacks and is never stored
  const labels = (qr.meta?.security ?? []).filter((c) => !(c.system === REDACTED.system && c.code === REDACTED.code));
  const value = Number.isInteger(total.value) && item?.type !== 'decimal' && item?.type !== 'quantity'
    ? { valueInteger: total.value }
    : { valueQuantity: { value: total.value, system: 'http://unitsofmeasure.org', code: '{score}', unit: '{score}' } };
  return {
    resourceType: 'Observation',
    ...(labels.length ? { meta: { security: labels } } : {}),
    status: STATUS[qr.status] ?? 'final',
    category: [SURVEY],
    code,
    ...(qr.subject ? { subject: qr.subject } : {}),
    ...(qr.encounter ? { encounter: qr.encounter } : {}),
    ...(qr.authored ? { effectiveDateTime: qr.authored } : {}),
    issued: new Date().toISOString(),
    ...value,
    ...(interpretations.length ? { interpretation: interpretations } : {}),
    ...(total.method === 'sum' ? { method: { text: 'Sum of the answers\' scores (ordinalValue / itemWeight)' } } : {}),
    ...(derivedFrom ? { derivedFrom: [{ reference: derivedFrom }] } : {}),
    ...(components.length ? { component: components } : {}),
  } as Observation;
}

/** What a score says, without when it was made or stored. */
function comparable(o: Observation): Record<string, unknown> {
  const { id: _id, meta, issued: _issued, ...rest } = o;
  void [_id, _issued];
  return { ...rest, security: meta?.security ?? [] };
}

/** Stores the Observation (and a response that came in the body) through a transaction Bundle,
 * so the entries commit together and each is authorized and validated like any write. */
async function persist(req: FhirRequest, ctx: Context, obs: Observation, qr: QuestionnaireResponse, storedId: string | undefined): Promise<FhirResponse> {
  const entries: BundleEntry[] = [];
  // the create ignores the id a response came with and gives it a new one, which the
  // Observation's derivedFrom (this entry's urn:uuid) is rewritten to
  if (!storedId) entries.push({ fullUrl: obs.derivedFrom![0].reference, resource: qr, request: { method: 'POST', url: 'QuestionnaireResponse' } });
  const coding = obs.code.coding?.find((c) => c.system && c.code);
  // re-scoring a stored response replaces its earlier score (a new version of the same
  // Observation), unless nothing but the time of scoring would change
  if (storedId && coding) {
    const query = await criteria(req, ctx, 'Observation', { 'derived-from': [`QuestionnaireResponse/${storedId}`], code: [`${coding.system}|${coding.code}`] });
    const { matches } = await ctx.repo.search({ ...query, count: 2, total: 'none', include: [], revinclude: [] });
    const earlier = matches.length === 1 ? (JSON.parse(matches[0].json) as Observation) : undefined;
    if (earlier && isDeepStrictEqual(comparable(earlier), comparable(obs))) {
      return { status: 200, headers: { location: formatReference({ base: req.baseUrl, type: 'Observation', id: earlier.id!, version: earlier.meta!.versionId }) }, body: new ResourceJson('Observation', matches[0].json) };
    }
  }
  const url = storedId && coding
    ? `Observation?derived-from=${encodeURIComponent(`QuestionnaireResponse/${storedId}`)}&code=${encodeURIComponent(`${coding.system}|${coding.code}`)}`
    : 'Observation';
  entries.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: obs, request: { method: url === 'Observation' ? 'POST' : 'PUT', url } });
  const tx: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  const res = await bundle({ ...req, method: 'POST', resourceType: undefined, id: undefined, body: tx, query: Object.create(null), headers: { ...req.headers, prefer: 'return=representation' } }, ctx);
  const out = resourceOf<Bundle>(res.body!);
  const entry = out.entry![out.entry!.length - 1];
  const created = entry.response!.status.startsWith('201');
  return { status: created ? 201 : 200, headers: { location: entry.response!.location!, ...(entry.response!.etag ? { etag: entry.response!.etag } : {}) }, body: entry.resource };
}

export const score: Handler = async (req, ctx) => {
  const input = readInput(req);
  let qr = input.response;
  let version: number | undefined;
  if (input.persist) {
    // said up front, rather than by the transaction's entry, which the caller never sent
    authorize(req.auth, 'Observation', 'c', ...(req.id ? (['s', 'u'] as const) : []));
    if (!req.id) authorize(req.auth, 'QuestionnaireResponse', 'c');
  }
  if (req.id) {
    authorize(req.auth, 'QuestionnaireResponse', 'r');
    const current = await ctx.repo.store.current('QuestionnaireResponse', req.id);
    if (!current || current.deleted || !current.json) throw notFound(`QuestionnaireResponse/${req.id} is not known`);
    // scored as the client may see it: answers withheld from it are neither scored nor quoted
    qr = viewFor(req.auth)(JSON.parse(current.json) as QuestionnaireResponse);
    version = current.versionId;
  }
  if (!qr) throw badRequest('$score needs a QuestionnaireResponse: the body, a Parameters resource with parameter "questionnaire-response", or QuestionnaireResponse/[id]/$score', 'required');
  if (!req.id) {
    const shape = checkShape(qr, ctx.types);
    if (shape.length) throw new FhirError(400, shape);
  }
  if (qr.status === 'entered-in-error') throw unprocessable({ code: 'business-rule', diagnostics: 'A response entered in error is not scored', expression: ['QuestionnaireResponse.status'] });
  if (!qr.questionnaire) throw unprocessable({ code: 'required', diagnostics: 'The response names no questionnaire', expression: ['QuestionnaireResponse.questionnaire'] });
  const q = await findQuestionnaire(req, ctx, qr);
  if (!q) {
    throw unprocessable({ code: 'not-found', diagnostics: `The questionnaire '${qr.questionnaire.slice(0, 200)}' is not known to this server`, expression: ['QuestionnaireResponse.questionnaire'] });
  }
  // answers to sensitive questions withheld from this client (src/questionnaire/sensitive-items.ts)
  // for every stored response, answered or not: refusing only those that hold such answers would tell whose do
  const withheld = req.id && !seesSensitive(req.auth) ? sensitiveLinkIds(q) : new Set<string>();
  if (withheld.size && scoresDependOn(q, withheld)) {
    throw forbidden('The score of this response depends on answers to sensitive questions; scoring it needs the migration-data scope');
  }
  const issues = checkAnswers(q, qr, {
    withheld,
    inValueSet: (url, system, code) => {
      try {
        const r = ctx.terminology.inValueSet(url, system, code);
        return r.result === true || !system || !EXTERNAL_SYSTEMS.has(system) ? r.result : undefined;
      } catch {
        return undefined;
      }
    },
  });
  if (issues.length) throw unprocessable(issues);
  const totals = scoreResponse(q, qr);
  if (!totals.length) throw unprocessable({ code: 'not-supported', diagnostics: `The questionnaire '${qr.questionnaire.slice(0, 200)}' defines no scores (no ordinalValue, itemWeight or scored total)`, expression: ['QuestionnaireResponse.questionnaire'] });
  if (totals.length > 1) throw unprocessable({ code: 'not-supported', diagnostics: `The questionnaire has ${totals.length} totals; $score returns one Observation and supports one total per questionnaire` });
  // a response sent in the body and not stored has nothing on this server to derive from
  const derivedFrom = req.id ? `QuestionnaireResponse/${req.id}/_history/${version}` : input.persist ? `urn:uuid:${randomUUID()}` : undefined;
  // a response sent in the body is not labelled yet: label it as its write would be, so that the
  // score of one answering sensitive questions is labelled like the score of the stored one
  const labelled = req.id ? qr : (() => {
    const copy = structuredClone(qr);
    markAnswers(copy, sensitiveLinkIds(q));
    labelSensitive(copy);
    return copy;
  })();
  const obs = observation(ctx, q, labelled, totals[0], derivedFrom);
  if (input.persist) return persist(req, ctx, obs, qr, req.id);
  return { status: 200, body: obs };
};

/** Whether a $score request writes, so the route runs it (and its audit) in one transaction. */
export function scoreWrites(req: FhirRequest): boolean {
  try {
    return readInput(req).persist;
  } catch {
    return false;
  }
}

export const scoreOperation = defineOperation({
  code: 'score',
  id: 'QuestionnaireResponse-score',
  title: 'Score a QuestionnaireResponse',
  description: 'Checks the answers and scores them (answer scores, calculatedExpression), answering an Observation with the total, its interpretation band and suggested referral category; persist=true stores it.',
  levels: ['type', 'instance'],
  resourceTypes: ['QuestionnaireResponse'],
  affectsState: true,
  writes: scoreWrites,
  resourceBody: true,
  parameters: [
    ...parametersOf('in', 'questionnaire-response:QuestionnaireResponse persist:boolean', { 'questionnaire-response': 'At type level: the response to score (the body may also be the response itself)', persist: 'Store the Observation (and a response sent in the body)' }),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Observation' },
  ],
  handler: score,
});
