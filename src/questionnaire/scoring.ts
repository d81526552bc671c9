// Scores a QuestionnaireResponse the way SDC describes (https://build.fhir.org/ig/HL7/sdc/):
// each answer's score is the ordinalValue (R4 core) or itemWeight (FHIR extensions pack) of
// the answer option it chose, or of the answer itself; a total item's value is its
// calculatedExpression evaluated with the fhirpath library (which implements SDC's weight()),
// or the sum of the answers' scores when the questionnaire gives no expression; the IG's
// score-interpretation bands (min..max inclusive) turn the total into an interpretation and a
// suggested referral category. Pure functions: the caller has checked the answers first.
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { CodeableConcept, Extension, Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem } from 'fhir/r4.js';
import { sd } from '../ig/canonical.ts';
import { FhirError } from '../fhir/errors.ts';
import { answerValue, CALCULATED_EXPRESSION, sameValue } from './answers.ts';

export const SCORE_INTERPRETATION = sd('score-interpretation');
const SCORE_EXTENSIONS = ['http://hl7.org/fhir/StructureDefinition/ordinalValue', 'http://hl7.org/fhir/StructureDefinition/itemWeight'];
const VARIABLE = 'http://hl7.org/fhir/StructureDefinition/variable';
const NUMERIC = new Set(['integer', 'decimal', 'quantity']);

export interface ScoreBand {
  min: number;
  max?: number;
  interpretation?: CodeableConcept;
  referral?: CodeableConcept;
}

export interface Total {
  /** the questionnaire's total item; undefined when the questionnaire has none and the total is the plain sum */
  item?: QuestionnaireItem;
  value: number;
  /** how the value was obtained */
  method: 'calculatedExpression' | 'sum';
  band?: ScoreBand;
  /** item alerts (safety flags) raised by single answers, whatever the total */
  alerts?: ItemAlert[];
}

export const ITEM_ALERT = sd('item-alert');

export interface ItemAlert {
  item: QuestionnaireItem;
  score: number;
  alert: CodeableConcept;
  referral?: CodeableConcept;
}

/** The item-alert extensions whose threshold an answer reaches (PHQ-9 item 9 above 0). */
export function itemAlerts(q: Questionnaire, scores: Map<string, number[]>): ItemAlert[] {
  const out: ItemAlert[] = [];
  for (const item of flatten(q.item)) {
    for (const ext of item.extension ?? []) {
      if (ext.url !== ITEM_ALERT) continue;
      const part = (name: string) => ext.extension?.find((e) => e.url === name);
      const min = part('min')?.valueDecimal;
      const alert = part('alert')?.valueCodeableConcept;
      const answered = scores.get(item.linkId) ?? [];
      if (min === undefined || !alert || !answered.length) continue;
      const score = Math.max(...answered);
      if (score >= min) out.push({ item, score, alert, referral: part('referral')?.valueCodeableConcept });
    }
  }
  return out;
}

function scoreOf(extensions: Extension[] | undefined): number | undefined {
  return extensions?.find((e) => SCORE_EXTENSIONS.includes(e.url) && typeof e.valueDecimal === 'number')?.valueDecimal;
}

function flatten(items: QuestionnaireItem[] | undefined, out: QuestionnaireItem[] = [], depth = 0): QuestionnaireItem[] {
  if (depth > 32) return out;
  for (const i of items ?? []) {
    out.push(i);
    flatten(i.item, out, depth + 1);
  }
  return out;
}

/** The bands of the score-interpretation extension, by the linkId of the total they apply to. */
export function scoreBands(q: Questionnaire): Map<string, ScoreBand[]> {
  const out = new Map<string, ScoreBand[]>();
  for (const e of q.extension ?? []) {
    if (e.url !== SCORE_INTERPRETATION) continue;
    const part = (name: string) => e.extension?.find((x) => x.url === name);
    const item = part('item')?.valueString;
    const min = part('min')?.valueDecimal;
    if (!item || typeof min !== 'number') continue;
    const band: ScoreBand = { min, max: part('max')?.valueDecimal, interpretation: part('interpretation')?.valueCodeableConcept, referral: part('referral')?.valueCodeableConcept };
    out.set(item, [...(out.get(item) ?? []), band]);
  }
  return out;
}

/** Each answer's score, by linkId: the weight of the chosen answer option or of the answer itself. */
export function answerScores(q: Questionnaire, qr: QuestionnaireResponse): Map<string, number[]> {
  const items = new Map(flatten(q.item).map((i) => [i.linkId, i]));
  const out = new Map<string, number[]>();
  const walk = (list: QuestionnaireResponseItem[] | undefined, depth: number) => {
    if (!list || depth > 32) return;
    for (const r of list) {
      const qi = items.get(r.linkId);
      for (const a of r.answer ?? []) {
        const v = answerValue(a);
        const own = v && typeof v.value === 'object' ? scoreOf((v.value as { extension?: Extension[] }).extension) : undefined;
        const option = v && qi?.answerOption?.find((o) => { const ov = answerValue(o); return ov !== undefined && sameValue(v, ov); });
        const score = own ?? scoreOf(option?.extension);
        if (score !== undefined) out.set(r.linkId, [...(out.get(r.linkId) ?? []), score]);
        walk(a.item, depth + 1);
      }
      walk(r.item, depth + 1);
    }
  };
  walk(qr.item, 0);
  return out;
}

/** The items whose value is a score total: those the score bands name, else the numeric
 * calculated items whose expression weighs answers (a BMI or an age is not a score). */
export function totalItems(q: Questionnaire): QuestionnaireItem[] {
  const all = flatten(q.item);
  const banded = scoreBands(q);
  const named = all.filter((i) => banded.has(i.linkId));
  if (named.length) return named;
  return all.filter((i) => NUMERIC.has(i.type) && /\b(weight|ordinal)\(\)/.test(calculated(i)?.expression ?? ''));
}

function calculated(item: QuestionnaireItem) {
  return item.extension?.find((e) => e.url === CALCULATED_EXPRESSION)?.valueExpression;
}

function responseItem(list: QuestionnaireResponseItem[] | undefined, linkId: string, depth = 0): QuestionnaireResponseItem | undefined {
  if (!list || depth > 32) return undefined;
  for (const r of list) {
    if (r.linkId === linkId) return r;
    const found = responseItem(r.item, linkId, depth + 1) ?? r.answer?.map((a) => responseItem(a.item, linkId, depth + 1)).find(Boolean);
    if (found) return found;
  }
  return undefined;
}

const compiled = new Map<string, ReturnType<typeof fhirpath.compile>>();

function evaluate(expression: string, base: string, node: unknown, vars: Record<string, unknown>): unknown[] {
  let fn = compiled.get(`${base}\u0000${expression}`);
  if (!fn) {
    fn = fhirpath.compile({ base, expression }, r4model);
    if (compiled.size > 500) compiled.clear();
    compiled.set(`${base}\u0000${expression}`, fn);
  }
  return fn(node as object, vars) as unknown[];
}

/** Evaluates the total item's calculatedExpression as SDC does: in the context of the response's
 * item (a bare one when the client left it out), with %resource, %questionnaire and the
 * questionnaire's and the item's own `variable` extensions. */
function calculate(q: Questionnaire, qr: QuestionnaireResponse, item: QuestionnaireItem): number {
  const expr = calculated(item)!;
  const fail = (why: string) => new FhirError(422, { code: 'processing', diagnostics: `The calculatedExpression of item '${item.linkId}' ${why}`, expression: [`Questionnaire.item.where(linkId='${item.linkId}')`] });
  if (expr.language !== 'text/fhirpath' || !expr.expression) throw fail(`is in ${String(expr.language).slice(0, 64)}; only text/fhirpath is supported`);
  const vars: Record<string, unknown> = { resource: qr, rootResource: qr, questionnaire: q };
  const node = responseItem(qr.item, item.linkId) ?? { linkId: item.linkId };
  try {
    for (const v of q.extension ?? []) {
      if (v.url === VARIABLE && v.valueExpression?.name && v.valueExpression.expression) vars[v.valueExpression.name] = evaluate(v.valueExpression.expression, 'QuestionnaireResponse', qr, vars);
    }
    for (const v of item.extension ?? []) {
      if (v.url === VARIABLE && v.valueExpression?.name && v.valueExpression.expression) vars[v.valueExpression.name] = evaluate(v.valueExpression.expression, 'QuestionnaireResponse.item', node, vars);
    }
    const out = evaluate(expr.expression, 'QuestionnaireResponse.item', node, vars);
    const value = out.length === 1 ? Number(out[0] && typeof out[0] === 'object' ? (out[0] as { value?: unknown }).value : out[0]) : NaN;
    if (!Number.isFinite(value)) throw fail(out.length === 0 ? 'gave no value' : 'did not give one number');
    return value;
  } catch (err) {
    if (err instanceof FhirError) throw err;
    throw fail(`could not be evaluated: ${String((err as Error).message).slice(0, 200)}`);
  }
}

export function bandOf(bands: ScoreBand[] | undefined, value: number): ScoreBand | undefined {
  return bands?.find((b) => value >= b.min && (b.max === undefined || value <= b.max));
}

/** The totals of a (checked) response; empty when the questionnaire scores nothing. */
export function scoreResponse(q: Questionnaire, qr: QuestionnaireResponse): Total[] {
  const bands = scoreBands(q);
  const scores = answerScores(q, qr);
  const sum = [...scores.values()].flat().reduce((s, x) => s + x, 0);
  const items = totalItems(q);
  const alerts = itemAlerts(q, scores);
  const withAlerts = alerts.length ? { alerts } : {};
  if (!items.length) {
    const weighted = flatten(q.item).some((i) => i.answerOption?.some((o) => scoreOf(o.extension) !== undefined));
    return weighted ? [{ value: sum, method: 'sum', ...withAlerts }] : [];
  }
  return items.map((item) => {
    const value = calculated(item) ? calculate(q, qr, item) : sum;
    return { item, value, method: calculated(item) ? 'calculatedExpression' : 'sum', band: bandOf(bands.get(item.linkId), value), ...withAlerts };
  });
}
