// Patient $match: https://hl7.org/fhir/R4/patient-operation-match.html
// MPI-style matching of an input Patient against the stored ones. Candidates come from indexed
// blocking queries (src/mpi/blocking.ts) — any shared identifier; a family and a given name key
// (cross-script phonetic keys of every candidate Latin form); a name key with the full birth
// date; a family name key with the birth year ±1 — never a scan; each candidate is then scored
// (src/mpi/score.ts) and graded certain / probable / possible. Results carry search.score, the
// match-grade extension and the match-evidence extension: per compared field, whether it agreed,
// partly agreed, disagreed or was missing, at which level and with which weight, so a registrar
// can see why.
// A client without the migration-data scope is matched over its view: status-revealing
// identifiers (an LMA card, a UNHCR registration: src/auth/sensitive-identifiers.ts) are neither
// searched nor scored, the stored ones nor those of its input (a warning says so) — a grade or an
// "identifier agrees" would confirm the status it cannot read.
import type { Patient } from 'fhir/r4.js';
import { badRequest } from '../fhir/errors.ts';
import { bundleText } from '../fhir/bundle.ts';
import type { Condition, SearchQuery } from '../search/ir.ts';
import { MATCH_KEY, queryKeys } from '../mpi/blocking.ts';
import { compare, type FieldEvidence, type MatchResult } from '../mpi/score.ts';
import { matchConfig as config } from '../mpi/match-settings.ts';
import type { Context, Handler } from '../rest/types.ts';
import { authorize } from '../auth/authorize.ts';
import { defineOperation, parametersOf } from './types.ts';
import { checkShape } from '../validation/shape.ts';
import { viewFor } from '../auth/sensitive.ts';
import { overClientView } from '../auth/sensitive-search.ts';
import { isStatusRevealingIdentifier } from '../auth/sensitive-identifiers.ts';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const MATCH_EVIDENCE = 'https://migfhir.org/fhir/StructureDefinition/match-evidence';

/** The match-evidence extension: one sub-extension per field (agreement, level, weight) and the total weight. */
function evidenceExtension(result: MatchResult) {
  const field = (e: FieldEvidence) => ({
    url: e.field,
    extension: [
      { url: 'agreement', valueCode: e.agreement },
      { url: 'level', valueCode: e.level },
      { url: 'weight', valueDecimal: e.weight },
    ],
  });
  return { url: MATCH_EVIDENCE, extension: [...result.evidence.map(field), { url: 'weight', valueDecimal: result.weight }] };
}

interface Input {
  patient: Patient;
  onlyCertainMatches: boolean;
  count?: number;
}

function readInput(body: unknown): Input {
  const b = body as { resourceType?: string; parameter?: { name: string; resource?: Patient; valueBoolean?: boolean; valueInteger?: number }[] } | undefined;
  if (b?.resourceType === 'Patient') return { patient: b as Patient, onlyCertainMatches: false };
  if (b?.resourceType !== 'Parameters') throw badRequest('$match takes a Parameters resource with a Patient in parameter "resource"', 'invalid');
  const patient = b.parameter?.find((p) => p.name === 'resource')?.resource;
  if (patient?.resourceType !== 'Patient') throw badRequest('Parameter "resource" must hold a Patient', 'required');
  const only = b.parameter?.find((p) => p.name === 'onlyCertainMatches')?.valueBoolean ?? false;
  const count = b.parameter?.find((p) => p.name === 'count')?.valueInteger;
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw badRequest('count must be a positive integer', 'value');
  return { patient, onlyCertainMatches: only, count };
}

function query(ctx: Context, conditions: Condition[]): SearchQuery {
  return { types: ['Patient'], conditions, sort: [], count: config.blocking.perPass, total: 'none', include: [], revinclude: [] };
}

/** The blocking queries for an input patient. */
export function blockingQueries(ctx: Context, p: Patient): SearchQuery[] {
  const key = (code: string) => ctx.search.get('Patient', code)!.key;
  const out: SearchQuery[] = [];
  const ids = (p.identifier ?? []).filter((i) => i.value).map((i) => ({ ...(i.system ? { system: i.system } : {}), code: i.value! }));
  if (ids.length) out.push(query(ctx, [{ kind: 'token', params: [key('identifier')], not: false, values: ids }]));
  // compound name / birth keys (src/mpi/blocking.ts): exact lookups, selective even for common names
  // one query per kind of key, so the selective ones (name + full birth date) are never crowded
  // out by the broad ones (a common name pair) under the per-query cap
  const keys = queryKeys(p);
  for (const prefix of ['d:', 'y:', 'n:']) {
    const values = keys.filter((k) => k.startsWith(prefix)).map((code) => ({ system: null, code }));
    if (values.length) out.push(query(ctx, [{ kind: 'token', params: [MATCH_KEY], not: false, values }]));
  }
  return out;
}

export const match: Handler = async (req, ctx) => {
  authorize(req.auth, 'Patient', 's');
  authorize(req.auth, 'Patient', 'r');
  const input = readInput(req.body);
  const shape = checkShape({ ...input.patient, id: input.patient.id ?? 'input' }, ctx.types);
  if (shape.length) throw badRequest(`The input Patient is not valid: ${shape[0].diagnostics}`, 'invalid');
  const hidden = (input.patient.identifier ?? []).filter(isStatusRevealingIdentifier);
  // the request's AuditEvent records a look-up by such a number: labelled like the data
  if (hidden.length && req.trail) req.trail.sensitiveQuery = true;
  const blind = req.auth !== undefined && !req.auth.scopes.sensitive;
  if (blind && hidden.length) input.patient = { ...input.patient, identifier: input.patient.identifier!.filter((i) => !isStatusRevealingIdentifier(i)) };
  const view = viewFor(req.auth);
  const candidates = new Map<string, { json: string; patient: Patient }>();
  for (const q of blockingQueries(ctx, input.patient)) {
    const { matches } = await ctx.repo.search(overClientView(req, q));
    for (const m of matches) if (!candidates.has(m.id)) candidates.set(m.id, { json: m.json, patient: view(JSON.parse(m.json) as Patient) });
  }
  const scored: { id: string; json: string; result: MatchResult }[] = [];
  for (const [id, c] of candidates) {
    if (input.patient.id && id === input.patient.id) continue;
    const result = compare(input.patient, c.patient, { ...config, grades: ctx.config.matchGrades });
    if (result.grade !== 'certainly-not') scored.push({ id, json: c.json, result });
  }
  scored.sort((a, b) => b.result.weight - a.result.weight);
  let out = scored;
  if (input.onlyCertainMatches) {
    // the spec: with onlyCertainMatches, return a match only when it is certain and alone
    const certain = scored.filter((s) => s.result.grade === 'certain');
    out = certain.length === 1 ? certain : [];
  }
  if (input.count !== undefined) out = out.slice(0, input.count);
  const entries = out.map((s) => ({
    fullUrl: `${req.baseUrl}/Patient/${s.id}`,
    resourceJson: s.json,
    extra: { search: { extension: [{ url: MATCH_GRADE, valueCode: s.result.grade }, evidenceExtension(s.result)], mode: 'match', score: s.result.score } },
  }));
  if (blind && hidden.length) {
    // a warning entry (search.mode outcome), not counted in total
    const warning = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'warning', code: 'suppressed', diagnostics: `${hidden.length} identifier(s) of the input reveal a migration status and were ignored: matching on them needs the migration-data scope` }],
    };
    return { status: 200, body: bundleText('searchset', [...entries, { resourceJson: JSON.stringify(warning), extra: { search: { mode: 'outcome' } } }], { total: entries.length }) };
  }
  return { status: 200, body: bundleText('searchset', entries, { total: entries.length }) };
};

export const matchOperation = defineOperation({
  code: 'match',
  id: 'Patient-match',
  title: 'Find patient matches using MPI-style logic',
  description: 'Scores the stored Patients found by indexed blocking queries against the input Patient; results carry search.score, the match-grade and the match-evidence extensions.',
  base: 'http://hl7.org/fhir/OperationDefinition/Patient-match',
  levels: ['type'],
  resourceTypes: ['Patient'],
  resourceBody: true,
  access: ['s', 'r'],
  parameters: [
    ...parametersOf('in', 'resource:Patient! onlyCertainMatches:boolean count:integer', { resource: 'The Patient to match (the body may also be the Patient itself)' }),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: match,
});
