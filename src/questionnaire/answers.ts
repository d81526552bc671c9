// Checks a QuestionnaireResponse's answers against its Questionnaire before anything is scored,
// following the R4 rules (https://hl7.org/fhir/R4/questionnaireresponse.html#link): every
// linkId exists in the Questionnaire, required items that are enabled have an answer, an item
// that does not repeat has one answer, an answer has the item type's value[x] and, for items
// with answerOption (or an answerValueSet the server holds), is one of the permitted answers.
// enableWhen and SDC's enableWhenExpression decide whether an item is enabled, so a disabled
// required item is not reported missing. Every problem names the item by linkId; answer
// values are never echoed back beyond the code the caller sent.
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { Coding, Questionnaire, QuestionnaireItem, QuestionnaireItemEnableWhen, QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer } from 'fhir/r4.js';
import type { IssueInput } from '../fhir/errors.ts';

const ENABLE_WHEN_EXPRESSION = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression';
export const CALCULATED_EXPRESSION = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression';

/** The value[x] an answer to an item of each type carries (R4 QuestionnaireResponse, que-2). */
const VALUE_TYPES: Record<string, string[]> = {
  boolean: ['valueBoolean'], decimal: ['valueDecimal'], integer: ['valueInteger'], date: ['valueDate'], dateTime: ['valueDateTime'],
  time: ['valueTime'], string: ['valueString'], text: ['valueString'], url: ['valueUri'], choice: ['valueCoding'],
  'open-choice': ['valueCoding', 'valueString'], attachment: ['valueAttachment'], reference: ['valueReference'], quantity: ['valueQuantity'],
};

type AnswerValue = { key: string; value: unknown };

export function answerValue(a: QuestionnaireResponseItemAnswer | Record<string, unknown>): AnswerValue | undefined {
  const key = Object.keys(a).find((k) => k.startsWith('value') && k.length > 5);
  return key ? { key, value: (a as Record<string, unknown>)[key] } : undefined;
}

function sameCoding(a: Coding, b: Coding): boolean {
  return a.code === b.code && (a.system ?? '') === (b.system ?? '');
}

/** Whether an answer value equals an answerOption's or enableWhen's value of the same type. */
export function sameValue(a: AnswerValue, b: AnswerValue): boolean {
  if (a.key !== b.key) return false;
  if (a.key === 'valueCoding') return sameCoding(a.value as Coding, b.value as Coding);
  if (a.key === 'valueReference') return (a.value as { reference?: string }).reference === (b.value as { reference?: string }).reference;
  if (a.key === 'valueQuantity') {
    const [x, y] = [a.value as { value?: number; code?: string; unit?: string }, b.value as { value?: number; code?: string; unit?: string }];
    return x.value === y.value && (x.code ?? x.unit) === (y.code ?? y.unit);
  }
  return a.value === b.value;
}

/** Every answer in the response, by linkId, wherever the item sits (groups, answers' children). */
export function answersByLinkId(qr: QuestionnaireResponse): Map<string, QuestionnaireResponseItemAnswer[]> {
  const out = new Map<string, QuestionnaireResponseItemAnswer[]>();
  const walk = (items: QuestionnaireResponseItem[] | undefined, depth: number) => {
    if (!items || depth > 32) return;
    for (const it of items) {
      if (it.answer?.length) out.set(it.linkId, [...(out.get(it.linkId) ?? []), ...it.answer]);
      walk(it.item, depth + 1);
      for (const a of it.answer ?? []) walk(a.item, depth + 1);
    }
  };
  walk(qr.item, 0);
  return out;
}

function compare(answer: AnswerValue, operator: string, expected: AnswerValue): boolean {
  if (operator === '=') return sameValue(answer, expected);
  if (operator === '!=') return !sameValue(answer, expected);
  const num = (v: AnswerValue) => (v.key === 'valueQuantity' ? (v.value as { value?: number }).value : v.value);
  const [x, y] = [num(answer), num(expected)];
  if (answer.key !== expected.key || x === undefined || y === undefined || typeof x !== typeof y) return false;
  const [p, q] = [x as number | string, y as number | string];
  return operator === '>' ? p > q : operator === '<' ? p < q : operator === '>=' ? p >= q : operator === '<=' ? p <= q : false;
}

function enableWhenHolds(cond: QuestionnaireItemEnableWhen, answers: Map<string, QuestionnaireResponseItemAnswer[]>): boolean {
  const given = answers.get(cond.question) ?? [];
  const expected = answerValue(Object.fromEntries(Object.entries(cond).filter(([k]) => k.startsWith('answer')).map(([k, v]) => [k.replace(/^answer/, 'value'), v])));
  if (cond.operator === 'exists') return (given.length > 0) === (cond.answerBoolean === true);
  if (!expected) return false;
  // '!=' holds when no answer equals the value, so an unanswered question counts as "not equal"
  if (cond.operator === '!=') return given.every((a) => !sameValue(answerValue(a) ?? { key: '', value: undefined }, expected));
  return given.some((a) => {
    const v = answerValue(a);
    return v !== undefined && compare(v, cond.operator, expected);
  });
}

export interface CheckOptions {
  /** whether a code is in a value set: true/false, or undefined when the server cannot tell */
  inValueSet?: (url: string, system: string | undefined, code: string) => boolean | undefined;
  /** linkIds whose answers were withheld from the caller (sensitive questions): a missing
   * answer to them is not reported */
  withheld?: Set<string>;
}

/** The problems that stop a response from being scored; empty when it can be. */
export function checkAnswers(q: Questionnaire, qr: QuestionnaireResponse, options: CheckOptions = {}): IssueInput[] {
  const issues: IssueInput[] = [];
  const answers = answersByLinkId(qr);
  const known = new Set<string>();
  const collect = (items: QuestionnaireItem[] | undefined) => items?.forEach((i) => {
    known.add(i.linkId);
    collect(i.item);
  });
  collect(q.item);

  const enabled = (qi: QuestionnaireItem): boolean => {
    const expression = qi.extension?.find((e) => e.url === ENABLE_WHEN_EXPRESSION)?.valueExpression?.expression;
    if (expression) {
      try {
        const out = fhirpath.evaluate(qr, expression, { resource: qr, rootResource: qr, questionnaire: q }, r4model) as unknown[];
        return out.length === 1 && out[0] === true;
      } catch {
        return true; // an expression that cannot be evaluated leaves the item enabled: it is then checked
      }
    }
    if (!qi.enableWhen?.length) return true;
    const results = qi.enableWhen.map((c) => enableWhenHolds(c, answers));
    return qi.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
  };

  const checkAnswer = (qi: QuestionnaireItem, a: QuestionnaireResponseItemAnswer, where: string) => {
    const v = answerValue(a);
    const allowed = VALUE_TYPES[qi.type];
    if (!v) {
      issues.push({ code: 'required', diagnostics: `An answer to item '${qi.linkId}' has no value`, expression: [where] });
      return;
    }
    if (qi.answerOption?.length) {
      if (qi.type === 'open-choice' && v.key === 'valueString') return;
      if (!qi.answerOption.some((o) => { const ov = answerValue(o); return ov !== undefined && sameValue(v, ov); })) {
        const shown = v.key === 'valueCoding' ? `${(v.value as Coding).system ?? ''}|${String((v.value as Coding).code ?? '').slice(0, 64)}` : v.key;
        issues.push({ code: 'code-invalid', diagnostics: `The answer '${shown}' to item '${qi.linkId}' is not one of its answer options`, expression: [where] });
      }
      return;
    }
    if (allowed && !allowed.includes(v.key)) {
      issues.push({ code: 'invalid', diagnostics: `Item '${qi.linkId}' is of type ${qi.type}: its answers are ${allowed.join(' or ')}, not ${v.key}`, expression: [where] });
      return;
    }
    if (qi.answerValueSet && v.key === 'valueCoding' && qi.type === 'choice') {
      const c = v.value as Coding;
      if (c.code && options.inValueSet?.(qi.answerValueSet, c.system, c.code) === false) {
        issues.push({ code: 'code-invalid', diagnostics: `The answer '${c.system ?? ''}|${c.code.slice(0, 64)}' to item '${qi.linkId}' is not in its value set ${qi.answerValueSet}`, expression: [where] });
      }
    }
  };

  const walk = (qItems: QuestionnaireItem[] | undefined, rItems: QuestionnaireResponseItem[] | undefined, path: string, depth: number) => {
    if (depth > 32) return;
    (rItems ?? []).forEach((r, i) => {
      if (!known.has(r.linkId)) issues.push({ code: 'invalid', diagnostics: `Item '${String(r.linkId).slice(0, 64)}' is not in the questionnaire`, expression: [`${path}.item[${i}]`] });
    });
    for (const qi of qItems ?? []) {
      const matches = (rItems ?? []).map((r, i) => ({ r, at: `${path}.item[${i}]` })).filter((m) => m.r.linkId === qi.linkId);
      if (qi.type === 'display' || !enabled(qi)) continue;
      if (!qi.repeats && matches.length > 1) {
        issues.push({ code: 'structure', diagnostics: `Item '${qi.linkId}' does not repeat but appears ${matches.length} times`, expression: [matches[1].at] });
      }
      if (qi.type === 'group') {
        if (qi.required && !options.withheld?.has(qi.linkId) && !matches.some((m) => m.r.item?.length)) issues.push({ code: 'required', diagnostics: `Required group '${qi.linkId}' has no answers`, expression: [path] });
        for (const m of matches) walk(qi.item, m.r.item, m.at, depth + 1);
        continue;
      }
      const given = matches.flatMap((m) => (m.r.answer ?? []).map((a, j) => ({ a, at: `${m.at}.answer[${j}]` })));
      const calculated = qi.readOnly || qi.extension?.some((e) => e.url === CALCULATED_EXPRESSION);
      if (qi.required && !calculated && !given.length && !options.withheld?.has(qi.linkId)) issues.push({ code: 'required', diagnostics: `Required item '${qi.linkId}' has no answer`, expression: [path] });
      if (!qi.repeats && given.length > 1) issues.push({ code: 'structure', diagnostics: `Item '${qi.linkId}' does not repeat but has ${given.length} answers`, expression: [given[1].at] });
      if (calculated) continue; // a calculated total the client sent is not trusted: the server computes its own
      for (const g of given) {
        checkAnswer(qi, g.a, g.at);
        walk(qi.item, g.a.item, g.at, depth + 1);
      }
    }
  };
  walk(q.item, qr.item, 'QuestionnaireResponse', 0);
  return issues;
}
