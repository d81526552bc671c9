// Questionnaire and QuestionnaireResponse rules beyond R4's invariants, as the HL7 reference
// validator checks them: in a Questionnaire, enableWhen names an item that exists and answers it
// with a value of that item's type (an operator the type allows), and initial values and answer
// options fit the item's type; a QuestionnaireResponse whose Questionnaire is at hand (contained,
// or in the same Bundle) answers only items the Questionnaire has, with values of their types,
// no answers to display items, and every required item that is always enabled.

type Json = Record<string, unknown>;

export interface QuestionnaireIssue {
  severity: 'error' | 'warning';
  code: 'invalid' | 'structure' | 'required' | 'business-rule';
  /** relative to the resource: `.item[0].enableWhen[1]` */
  at: string;
  message: string;
}

/** item type → the value[x] suffixes an answer (or enableWhen answer, initial) may take */
const ANSWER_TYPES: Record<string, string[]> = {
  boolean: ['Boolean'],
  decimal: ['Decimal'],
  integer: ['Integer'],
  date: ['Date'],
  dateTime: ['DateTime'],
  time: ['Time'],
  string: ['String'],
  text: ['String'],
  url: ['Uri'],
  choice: ['Coding'],
  'open-choice': ['Coding', 'String'],
  attachment: ['Attachment'],
  reference: ['Reference'],
  quantity: ['Quantity'],
};
/** answerOption's value[x] types per item type (R4: integer, date, time, string, Coding) */
const OPTION_TYPES: Record<string, string[]> = {
  choice: ['Integer', 'Date', 'Time', 'String', 'Coding'],
  'open-choice': ['Integer', 'Date', 'Time', 'String', 'Coding'],
  integer: ['Integer'],
  date: ['Date'],
  time: ['Time'],
  string: ['String'],
  text: ['String'],
};
const ORDERED = new Set(['decimal', 'integer', 'date', 'dateTime', 'time', 'quantity', 'string', 'text']);

function items(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}

/** The value[x] suffix of an object's `prefix` choice (answerBoolean → Boolean). */
function suffixOf(o: Json, prefix: string): string | undefined {
  for (const k of Object.keys(o)) if (k.length > prefix.length && k.startsWith(prefix) && /^[A-Z]/.test(k[prefix.length])) return k.slice(prefix.length);
  return undefined;
}

/** linkId → item, over the whole tree. */
function index(list: Json[], into = new Map<string, Json>()): Map<string, Json> {
  for (const it of list) {
    if (typeof it.linkId === 'string' && !into.has(it.linkId)) into.set(it.linkId, it);
    index(items(it.item), into);
  }
  return into;
}

export function questionnaireIssues(q: Json): QuestionnaireIssue[] {
  const out: QuestionnaireIssue[] = [];
  const byLinkId = index(items(q.item));
  const walk = (list: Json[], at: string): void => {
    list.forEach((it, i) => {
      const here = `${at}.item[${i}]`;
      const type = typeof it.type === 'string' ? it.type : undefined;
      items(it.enableWhen).forEach((w, j) => {
        const where = `${here}.enableWhen[${j}]`;
        if (typeof w.question !== 'string') return;
        const target = byLinkId.get(w.question);
        if (!target) {
          out.push({ severity: 'error', code: 'invalid', at: where, message: `enableWhen refers to the question '${w.question.slice(0, 100)}', which is not in the Questionnaire` });
          return;
        }
        const answer = suffixOf(w, 'answer');
        const ttype = typeof target.type === 'string' ? target.type : undefined;
        if (!answer || w.operator === 'exists' || !ttype) return;
        const allowed = ANSWER_TYPES[ttype];
        if (allowed && !allowed.includes(answer)) out.push({ severity: 'error', code: 'invalid', at: where, message: `The enableWhen answer is a ${answer}, but the question '${w.question.slice(0, 100)}' is of type ${ttype} (expected ${allowed.join(' or ')})` });
        else if (typeof w.operator === 'string' && ['<', '>', '<=', '>='].includes(w.operator) && !ORDERED.has(ttype)) out.push({ severity: 'error', code: 'invalid', at: where, message: `The operator ${w.operator} cannot compare answers of a ${ttype} question` });
      });
      if (type) {
        const allowed = ANSWER_TYPES[type];
        items(it.initial).forEach((init, j) => {
          const s = suffixOf(init, 'value');
          if (s && allowed && !allowed.includes(s)) out.push({ severity: 'error', code: 'invalid', at: `${here}.initial[${j}]`, message: `An initial value of type ${s} does not fit an item of type ${type} (expected ${allowed.join(' or ')})` });
        });
        const options = OPTION_TYPES[type];
        items(it.answerOption).forEach((o, j) => {
          const s = suffixOf(o, 'value');
          if (s && options && !options.includes(s)) out.push({ severity: 'error', code: 'invalid', at: `${here}.answerOption[${j}]`, message: `An answer option of type ${s} does not fit an item of type ${type} (expected ${options.join(' or ')})` });
        });
      }
      walk(items(it.item), here);
    });
  };
  walk(items(q.item), '');
  return out;
}

/** Checks a QuestionnaireResponse against its Questionnaire. */
export function responseIssues(qr: Json, q: Json): QuestionnaireIssue[] {
  const out: QuestionnaireIssue[] = [];
  const walk = (answers: Json[], defs: Json[], at: string, enabled: boolean): void => {
    const byLinkId = new Map<string, Json>();
    for (const d of defs) if (typeof d.linkId === 'string') byLinkId.set(d.linkId, d);
    answers.forEach((a, i) => {
      const here = `${at}.item[${i}]`;
      if (typeof a.linkId !== 'string') return;
      const def = byLinkId.get(a.linkId);
      if (!def) {
        out.push({ severity: 'error', code: 'structure', at: here, message: `LinkId '${a.linkId.slice(0, 100)}' not found in questionnaire (at this level)` });
        return;
      }
      const type = typeof def.type === 'string' ? def.type : undefined;
      const given = items(a.answer);
      if (type === 'display' && given.length) out.push({ severity: 'error', code: 'structure', at: here, message: `Item '${a.linkId.slice(0, 100)}' is a display item, which cannot have answers` });
      if (type === 'group' && given.length) out.push({ severity: 'error', code: 'structure', at: here, message: `Item '${a.linkId.slice(0, 100)}' is a group, which cannot have answers` });
      if (given.length > 1 && def.repeats !== true) out.push({ severity: 'error', code: 'structure', at: here, message: `Item '${a.linkId.slice(0, 100)}' does not repeat, but has ${given.length} answers` });
      const allowed = type ? ANSWER_TYPES[type] : undefined;
      given.forEach((ans, j) => {
        const s = suffixOf(ans, 'value');
        if (s && allowed && !allowed.includes(s)) out.push({ severity: 'error', code: 'structure', at: `${here}.answer[${j}]`, message: `Answer value must be of type ${allowed.join(' or ')} for item '${a.linkId!.toString().slice(0, 100)}' of type ${type}, not ${s}` });
        walk(items(ans.item), items(def.item), `${here}.answer[${j}]`, enabled);
      });
      walk(items(a.item), items(def.item), here, enabled);
    });
    // required items that are always enabled (no enableWhen) must be answered, inside a
    // completed response
    if (!enabled) return;
    for (const d of defs) {
      if (d.required !== true || items(d.enableWhen).length || typeof d.linkId !== 'string') continue;
      if (!answers.some((a) => a.linkId === d.linkId)) out.push({ severity: 'error', code: 'required', at: at || '', message: `No response answer found for required item '${d.linkId.slice(0, 100)}'` });
    }
  };
  walk(items(qr.item), items(q.item), '', qr.status === 'completed');
  return out;
}
