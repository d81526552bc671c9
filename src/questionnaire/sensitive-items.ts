// Answers that reveal migration status. Questions about legal status, asylum or detention are
// asked in free text or codes, not in the IG's migration extensions, so the extensions' labelling
// cannot see them. The IG marks such a question with an item.code from the migfhir sensitivity
// code system (SENSITIVITY_SYSTEM#migration); a marked group makes every item in it sensitive.
// The mark sits on the question, not as an inline security label: a Questionnaire holds no
// patient data and stays readable to every client.
// When a QuestionnaireResponse is written, its Questionnaire is looked up (contained, stored, or
// the IG's) and every answered item of a marked question gets DS4P's inline security label with
// the migration code (src/auth/sensitive.ts INLINE_LABEL). The mark is stored with the response,
// so the response is labelled on write and redaction removes the marked items — answers and
// nested items with them — with no lookup when the response is read.
import type { Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem, Resource } from 'fhir/r4.js';
import { INLINE_LABEL, MIGRATION_LABEL, SENSITIVITY_SYSTEM } from '../auth/sensitive.ts';
import { parseCanonical, parseReference } from '../fhir/reference.ts';
import type { SearchParser } from '../search/parser.ts';
import type { StoreTransaction } from '../store/types.ts';

const MAX_DEPTH = 32;

/** Whether the IG (or a stored Questionnaire) marks a question as revealing migration status. */
export function isSensitiveQuestion(item: QuestionnaireItem): boolean {
  return (item.code ?? []).some((c) => c.system === SENSITIVITY_SYSTEM && c.code === MIGRATION_LABEL.code);
}

/** The linkIds of a questionnaire's sensitive items, nested ones and those inside a marked group. */
export function sensitiveLinkIds(q: Questionnaire): Set<string> {
  const out = new Set<string>();
  const walk = (items: QuestionnaireItem[] | undefined, inherited: boolean, depth: number) => {
    if (!items || depth > MAX_DEPTH) return;
    for (const i of items) {
      const sensitive = inherited || isSensitiveQuestion(i);
      if (sensitive) out.add(i.linkId);
      walk(i.item, sensitive, depth + 1);
    }
  };
  walk(q.item, false, 0);
  return out;
}

const SCORE_EXTENSIONS = ['http://hl7.org/fhir/StructureDefinition/ordinalValue', 'http://hl7.org/fhir/StructureDefinition/itemWeight'];

/** Whether a questionnaire's scores can depend on the answers to these items: one of their
 * answer options carries a score (ordinalValue, itemWeight), or an expression of the
 * questionnaire (calculatedExpression, variable, enableWhenExpression …) names one of them.
 * Decided from the questionnaire alone, so refusing on it reveals nothing of a response. */
export function scoresDependOn(q: Questionnaire, linkIds: Set<string>): boolean {
  const expressions: string[] = [];
  const collect = (value: unknown, depth: number) => {
    if (depth > MAX_DEPTH || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((v) => collect(v, depth + 1));
    const o = value as Record<string, unknown>;
    if (typeof o.expression === 'string') expressions.push(o.expression);
    for (const v of Object.values(o)) collect(v, depth + 1);
  };
  collect(q, 0);
  const walk = (items: QuestionnaireItem[] | undefined, depth: number): boolean =>
    !!items && depth <= MAX_DEPTH && items.some((i) =>
      (linkIds.has(i.linkId) && ((i.answerOption ?? []).some((o) => o.extension?.some((e) => SCORE_EXTENSIONS.includes(e.url))) || expressions.some((x) => x.includes(i.linkId))))
      || walk(i.item, depth + 1));
  return walk(q.item, 0);
}

function marked(item: QuestionnaireResponseItem): boolean {
  return (item.extension ?? []).some((e) => e.url === INLINE_LABEL && e.valueCoding?.system === SENSITIVITY_SYSTEM && e.valueCoding.code === MIGRATION_LABEL.code);
}

/** Labels the response items answering the given questions (in place); an item already marked
 * (by the client or an earlier write) keeps its mark. Returns whether any item is marked. */
export function markAnswers(qr: QuestionnaireResponse, linkIds: Set<string>): boolean {
  let any = false;
  const walk = (items: QuestionnaireResponseItem[] | undefined, depth: number) => {
    if (!items || depth > MAX_DEPTH) return;
    for (const item of items) {
      if (linkIds.has(item.linkId) && !marked(item)) item.extension = [...(item.extension ?? []), { url: INLINE_LABEL, valueCoding: { ...MIGRATION_LABEL } }];
      if (marked(item)) {
        any = true;
        continue; // removed whole for clients without the scope: nested items go with it
      }
      walk(item.item, depth + 1);
      for (const a of item.answer ?? []) walk(a.item, depth + 1);
    }
  };
  walk(qr.item, 0);
  return any;
}

/** How a canonical reference to a Questionnaire is resolved. */
export interface QuestionnaireSource {
  /** the current stored version of Questionnaire/[id] */
  byId(id: string): Promise<Questionnaire | undefined>;
  /** the newest stored Questionnaire with this url (and version) */
  byUrl(url: string, version: string | undefined): Promise<Questionnaire | undefined>;
  /** the implementation guide's questionnaires */
  ig: Questionnaire[];
}

/** The Questionnaire a response answers (QuestionnaireResponse.questionnaire, a canonical with
 * an optional |version, 'Questionnaire/[id]', or '#id' of a contained one): contained, then
 * stored, then the IG's. */
export async function resolveQuestionnaire(qr: QuestionnaireResponse, source: QuestionnaireSource): Promise<Questionnaire | undefined> {
  const canonical = qr.questionnaire;
  if (typeof canonical !== 'string' || !canonical) return undefined;
  if (canonical.startsWith('#')) return qr.contained?.find((r): r is Questionnaire => r.resourceType === 'Questionnaire' && r.id === canonical.slice(1));
  const ref = parseReference(canonical);
  const byId = ref?.kind === 'relative' && ref.type === 'Questionnaire' && ref.version === undefined ? ref.id : undefined;
  const { url, version } = parseCanonical(canonical);
  const stored = byId ? await source.byId(byId) : await source.byUrl(url, version);
  return stored ?? source.ig.find((q) => (byId ? q.id === byId : q.url === url && (!version || q.version === version)));
}

/** Marks a QuestionnaireResponse's sensitive answers before it is stored (other resources are
 * left alone). A response whose questionnaire is unknown is stored as it came. */
export async function markSensitiveAnswers(resource: Resource, source: QuestionnaireSource): Promise<void> {
  if (resource.resourceType !== 'QuestionnaireResponse') return;
  const qr = resource as QuestionnaireResponse;
  if (!qr.item?.length) return;
  const q = await resolveQuestionnaire(qr, source);
  const linkIds = q ? sensitiveLinkIds(q) : undefined;
  if (linkIds?.size) markAnswers(qr, linkIds);
}

/** Stored Questionnaires as a store (or a write's transaction) reads them: by id, or the newest
 * one with the url (and version) through the url/version search parameters. */
export function storedQuestionnaires(
  store: Pick<StoreTransaction, 'current' | 'search'>,
  parser: SearchParser,
  ig: Questionnaire[],
): QuestionnaireSource {
  return {
    ig,
    byId: async (id) => {
      const v = await store.current('Questionnaire', id);
      return v && !v.deleted && v.json ? (JSON.parse(v.json) as Questionnaire) : undefined;
    },
    byUrl: async (url, version) => {
      const { query } = parser.parse({ types: ['Questionnaire'], query: { url: [url], ...(version ? { version: [version] } : {}) }, baseUrl: '', strict: true, count: { default: 1, max: 1 } });
      const { matches } = await store.search({ ...query, sort: [{ params: ['_lastUpdated'], descending: true }], count: 1, total: 'none', include: [], revinclude: [] });
      return matches.length ? (JSON.parse(matches[0].json) as Questionnaire) : undefined;
    },
  };
}
