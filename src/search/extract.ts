// Index extraction: evaluates every search parameter of a resource's type on the resource and
// turns the FHIRPath results into typed rows, by the parameter's type and each value's FHIR
// type (https://hl7.org/fhir/R4/search.html#table lists which data types each search type
// matches).
import { parseDateRange } from '../fhir/datetime.ts';
import { emptyRows, ROW_TABLES, rowKey, type CompositeRow, type IndexRows, type QuantityRow } from './index-rows.ts';
import { carriesSensitivityLabel, hideStatusRows, markRows, needsViewExtraction, sensitiveParams } from './sensitive-rows.ts';
import { sensitiveContent, withoutSensitive, withoutSensitiveExtensions } from '../auth/sensitive.ts';
import { isStatusRevealingIdentifier } from '../auth/sensitive-identifiers.ts';
import { canonicalUnit, roundCanonical, UCUM_SYSTEM } from '../terminology/ucum.ts';
import { foldString } from './normalize.ts';
import { localTarget, parseCanonical } from '../fhir/reference.ts';
import { nameKeys } from '../mpi/names.ts';
import { MATCH_KEY, storedKeys } from '../mpi/blocking.ts';
import type { Patient } from 'fhir/r4.js';
import type { FhirNode, SearchParam, SearchParamRegistry } from './registry.ts';

const NEVER = 8.64e15; // the largest epoch ms a Date holds: open ends of Periods

/** [low, high) implied by a decimal's written precision: 100 → [99.5, 100.5), 1.50 → [1.495, 1.505) */
export function decimalRange(value: number, written?: string): { low: number; high: number } {
  const text = written ?? String(value);
  const m = /\.(\d+)/.exec(text);
  const exp = /e([+-]?\d+)/i.exec(text);
  let decimals = m ? m[1].length : 0;
  if (exp) decimals -= Number(exp[1]);
  const half = 0.5 * 10 ** -decimals;
  // rounded to the precision's next digit, so 0.4 gives [0.35, 0.45) and not 0.35000000000000003
  const round = (x: number) => Number(x.toFixed(Math.min(100, Math.max(0, decimals + 1))));
  return { low: round(value - half), high: round(value + half) };
}

function strings(node: FhirNode): string[] {
  const d = node.data as any;
  if (typeof d === 'string') return [d];
  if (d === null || typeof d !== 'object') return d === undefined ? [] : [String(d)];
  switch (node.type) {
    case 'HumanName':
      return [d.text, d.family, ...(d.given ?? []), ...(d.prefix ?? []), ...(d.suffix ?? [])].filter(isText);
    case 'Address':
      return [d.text, ...(d.line ?? []), d.city, d.district, d.state, d.postalCode, d.country].filter(isText);
    default: {
      const out: string[] = [];
      collectStrings(d, out, 0);
      return out;
    }
  }
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (k !== 'extension' && !k.startsWith('_')) collectStrings(x, out, depth + 1);
  }
}

function addTokens(rows: IndexRows, param: string, node: FhirNode): void {
  const d = node.data as any;
  const push = (system: unknown, code: unknown, text: unknown, typeSystem?: string | null, typeCode?: string | null) => {
    if (code === undefined && text === undefined) return;
    rows.token.push({
      param,
      system: typeof system === 'string' ? system : null,
      code: code === undefined || code === null ? null : String(code),
      text: typeof text === 'string' ? foldString(text) : null,
      ...(typeSystem || typeCode ? { typeSystem: typeSystem ?? null, typeCode: typeCode ?? null } : {}),
    });
  };
  if (d === null || d === undefined) return;
  if (typeof d !== 'object') {
    push(null, d, undefined);
    return;
  }
  switch (node.type) {
    case 'CodeableConcept':
      for (const c of d.coding ?? []) push(c.system, c.code, c.display ?? d.text);
      // :text searches CodeableConcept.text as well as each Coding.display
      if (d.text && (d.coding ?? []).every((c: any) => c.display !== undefined)) push(null, null, d.text);
      break;
    case 'Coding':
      push(d.system, d.code, d.display);
      break;
    case 'Identifier': {
      const t = d.type?.coding?.[0];
      push(d.system, d.value, d.type?.text, t?.system, t?.code);
      break;
    }
    case 'ContactPoint':
      push(null, d.value, undefined);
      break;
    default:
      if (d.code !== undefined || d.value !== undefined) push(d.system, d.code ?? d.value, d.display);
  }
}

function addDate(rows: IndexRows, param: string, node: FhirNode): void {
  const d = node.data as any;
  const range = (v: unknown) => (typeof v === 'string' ? parseDateRange(v) : undefined);
  if (typeof d === 'string') {
    const r = range(d);
    if (r) rows.date.push({ param, low: r.start, high: r.end });
    return;
  }
  if (!d || typeof d !== 'object') return;
  if (node.type === 'Period') {
    const s = range(d.start);
    const e = range(d.end);
    if (s || e) rows.date.push({ param, low: s?.start ?? -NEVER, high: e?.end ?? NEVER });
  } else if (node.type === 'Timing') {
    const events = (d.event ?? []).map(range).filter(Boolean) as { start: number; end: number }[];
    const b = d.repeat?.boundsPeriod;
    if (events.length) {
      rows.date.push({ param, low: Math.min(...events.map((e) => e.start)), high: Math.max(...events.map((e) => e.end)) });
    } else if (b) addDate(rows, param, { data: b, type: 'Period' });
  }
}

function addQuantity(rows: IndexRows, param: string, node: FhirNode, numberOnly: boolean): void {
  const d = node.data as any;
  const value = typeof d === 'number' ? d : d?.value;
  if (typeof value !== 'number') return;
  const { low, high } = decimalRange(value);
  if (numberOnly) rows.number.push({ param, value, low, high });
  else {
    // Money has a currency and no system: index it as a quantity in urn:iso:std:iso:4217
    const system = d.system ?? (d.currency ? 'urn:iso:std:iso:4217' : null);
    const row: QuantityRow = { param, value, low, high, system, code: d.code ?? d.currency ?? d.unit ?? null };
    if (system === UCUM_SYSTEM && typeof d.code === 'string') addCanonical(row, d.code);
    rows.quantity.push(row);
    // number||unit matches Quantity.code or the human-readable Quantity.unit (search.html#quantity)
    if (typeof d.unit === 'string' && d.code !== undefined && d.unit !== d.code) {
      rows.quantity.push({ param, value, low, high, system: null, code: d.unit });
    }
  }
}

/** A UCUM quantity's value and precision range in base units (72.5 kg: 72500 g in [72450, 72550)),
 * for searches in another unit of the same dimension; nothing for codes without a canonical form
 * (src/terminology/ucum.ts). Set on the row in place: this runs on every write of a quantity. */
function addCanonical(row: QuantityRow, code: string): void {
  const c = canonicalUnit(code);
  if (!c) return;
  row.canonCode = c.code;
  row.canonValue = roundCanonical(row.value * c.factor);
  row.canonLow = roundCanonical(row.low * c.factor);
  row.canonHigh = roundCanonical(row.high * c.factor);
}


function addReference(rows: IndexRows, p: SearchParam, node: FhirNode, bases: readonly string[]): void {
  const d = node.data as any;
  const push = (targetType: string | null, targetId: string | null, url: string | null, version: string | null, ident?: any) => {
    // `where(resolve() is X)` was dropped from the expression: the parameter's targets restrict
    if (targetType && p.targets.length && !p.targets.includes(targetType) && !p.targets.includes('Resource')) return;
    rows.reference.push({
      param: p.key,
      targetType,
      targetId,
      url,
      version,
      identifierSystem: ident?.system ?? null,
      identifierValue: ident?.value ?? null,
    });
  };
  if (typeof d === 'string') {
    // canonical or uri: url|version. A canonical names a resource by its url, never by id.
    const { url, version } = parseCanonical(d);
    push(null, null, url, version ?? null);
    return;
  }
  if (!d || typeof d !== 'object') return;
  const ref: unknown = d.reference;
  if (typeof ref === 'string' && !ref.startsWith('#')) {
    const t = localTarget(ref, bases);
    if (t) push(t.type, t.id, /^https?:/.test(ref) ? ref : null, t.version ?? null, d.identifier);
    else push(null, null, ref, null, d.identifier);
  } else if (d.identifier && (d.identifier.value || d.identifier.system)) {
    if (p.targets.length === 0 || !d.type || p.targets.includes(d.type) || p.targets.includes('Resource')) {
      rows.reference.push({
        param: p.key, targetType: d.type ?? null, targetId: null, url: null, version: null,
        identifierSystem: d.identifier.system ?? null, identifierValue: d.identifier.value ?? null,
      });
    }
  }
}

/** Typed rows of one value node for a parameter of `type`. */
function addNode(rows: IndexRows, p: SearchParam, type: string, node: FhirNode, bases: readonly string[]): void {
      switch (type) {
        case 'string':
          if (p.code === 'phonetic') {
            // phonetic: the cross-script consonant skeleton of every name word (src/mpi/names.ts)
            for (const s of strings(node)) for (const key of nameKeys(s)) rows.string.push({ param: p.key, norm: key, exact: s });
          } else for (const s of strings(node)) rows.string.push({ param: p.key, norm: foldString(s), exact: s });
          break;
        case 'token':
          addTokens(rows, p.key, node);
          break;
        case 'date':
          addDate(rows, p.key, node);
          break;
        case 'number':
          addQuantity(rows, p.key, node, true);
          break;
        case 'quantity':
          addQuantity(rows, p.key, node, false);
          break;
        case 'reference':
          addReference(rows, p, node, bases);
          break;
        case 'uri':
          if (typeof node.data === 'string') rows.uri.push({ param: p.key, uri: node.data });
          break;
      }
}

/** Composite rows: each component's values within each occurrence of the root expression. An
 * occurrence lacking a value for any component can never match a composite search (every
 * component must match), so it gets no rows: Observation.code-value-concept on an Observation
 * with a valueQuantity would otherwise store its code for nothing (half the composite rows). */
function addComposite(rows: IndexRows, p: SearchParam, roots: FhirNode[], bases: readonly string[]): void {
  for (let g = 0; g < roots.length; g++) {
    const group: CompositeRow[] = [];
    let complete = true;
    p.composite!.forEach((c, comp) => {
      if (!complete) return;
      const tmp = emptyRows();
      for (const node of c.evaluate(roots[g])) addNode(tmp, p, c.type, node, bases);
      const before = group.length;
      const base = { param: p.key, grp: g, comp, system: null, code: null, low: null, high: null, value: null, text: null, targetType: null, targetId: null };
      for (const r of tmp.token) group.push({ ...base, system: r.system, code: r.code, text: r.text });
      for (const r of tmp.quantity) {
        const row: CompositeRow = { ...base, system: r.system, code: r.code, value: r.value, low: r.low, high: r.high };
        if (r.canonCode !== undefined) Object.assign(row, { canonCode: r.canonCode, canonValue: r.canonValue, canonLow: r.canonLow, canonHigh: r.canonHigh });
        group.push(row);
      }
      for (const r of tmp.number) group.push({ ...base, value: r.value, low: r.low, high: r.high });
      for (const r of tmp.date) group.push({ ...base, low: r.low, high: r.high });
      for (const r of tmp.string) group.push({ ...base, text: r.norm });
      for (const r of tmp.reference) group.push({ ...base, targetType: r.targetType, targetId: r.targetId });
      for (const r of tmp.uri) group.push({ ...base, code: r.uri });
      complete = group.length > before;
    });
    if (complete) rows.composite.push(...group);
  }
}

/** All index rows for a resource. `bases` are the server's own absolute base URLs: absolute
 * references on them count as local. The rows of a resource carrying the sensitivity label are
 * each marked with the view they belong to, so that searches run over the client's view
 * (src/search/sensitive-rows.ts): the rows from status-revealing identifiers and the
 * sensitivity labels are noted while the resource is extracted and marked, with no second
 * extraction; a resource with sensitive extensions is extracted a second time without them,
 * which also tells the parameters whose rows differ because of them — marked sensitive,
 * whatever their expression, so that such clients cannot search, sort or join on them
 * (src/auth/sensitive-search.ts). Resources without the label — nearly all — pay one look at
 * meta.security. */
export function extractIndex(resource: { resourceType: string }, registry: SearchParamRegistry, bases: readonly string[] = []): IndexRows {
  const params = registry.indexed(resource.resourceType);
  if (!carriesSensitivityLabel(resource as { meta?: { security?: { system?: string }[] } })) return dedupe(extractRows(resource, params, bases));
  const r = resource as Parameters<typeof withoutSensitive>[0];
  if (needsViewExtraction(registry, params)) return dedupe(extractBothViews(r, params, bases));
  const kinds = sensitiveContent(r);
  const fromIdentifier = new Set<object>();
  const rows = extractRows(resource, params, bases, kinds.identifiers ? fromIdentifier : undefined);
  if (kinds.extensions) {
    // compared before dedupe: a value found both inside and outside the sensitive elements
    // still counts twice in the full resource and once in the view. The identifiers and labels
    // stay in this view: they are told apart below, and do not make `identifier` or `_security`
    // a parameter refused whole.
    const withoutExtensions = extractRows(withoutSensitiveExtensions(r), params, bases);
    const sensitive = sensitiveParams(rows, withoutExtensions);
    if (sensitive.length) rows.sensitive = sensitive;
    markRows(rows, withoutExtensions);
  }
  return dedupe(hideStatusRows(rows, fromIdentifier));
}

/** The rows of both views by extracting each (a custom parameter reads into identifiers or
 * meta: which of its rows the view lacks cannot be told from where they came from). */
function extractBothViews(r: Parameters<typeof withoutSensitive>[0], params: SearchParam[], bases: readonly string[]): IndexRows {
  const rows = extractRows(r, params, bases);
  const view = extractRows(withoutSensitive(r), params, bases);
  if (sensitiveContent(r).extensions) {
    const sensitive = sensitiveParams(rows, extractRows(withoutSensitiveExtensions(r), params, bases));
    if (sensitive.length) rows.sensitive = sensitive;
  }
  return markRows(rows, view);
}

/** Whether a value node is, or is a Reference carrying, a status-revealing identifier: its rows
 * are the view's missing ones. */
function fromStatusIdentifier(type: string, node: FhirNode): boolean {
  const d = node.data as { identifier?: unknown } | null;
  if (!d || typeof d !== 'object') return false;
  return isStatusRevealingIdentifier(d) || (type === 'reference' && isStatusRevealingIdentifier(d.identifier));
}

/** The rows of every parameter, a value reached twice giving two rows. With `fromIdentifier`,
 * the rows of nodes that are status-revealing identifiers are noted in it. */
function extractRows(resource: { resourceType: string }, params: SearchParam[], bases: readonly string[], fromIdentifier?: Set<object>): IndexRows {
  const rows = emptyRows();
  for (const p of params) {
    try {
      const nodes = p.evaluate!(resource);
      if (p.composite) addComposite(rows, p, nodes.slice(0, 50), bases);
      else {
        for (const node of nodes) {
          if (fromIdentifier && fromStatusIdentifier(p.type, node)) {
            const before = ROW_TABLES.map((t) => rows[t].length);
            addNode(rows, p, p.type, node, bases);
            ROW_TABLES.forEach((t, i) => {
              for (const row of (rows[t] as object[]).slice(before[i])) fromIdentifier.add(row);
            });
          } else addNode(rows, p, p.type, node, bases);
        }
      }
    } catch {
      // an expression that cannot evaluate on this instance indexes nothing
    }
  }
  if (resource.resourceType === 'Patient') {
    for (const code of storedKeys(resource as Patient)) rows.token.push({ param: MATCH_KEY, system: null, code, text: null });
  }
  return rows;
}

function withoutMark(row: { sens?: number }): object {
  const { sens: _sens, ...rest } = row;
  void _sens;
  return rest;
}

/** The same value reached twice (two names both with "Peter") needs one row. A parameter's rows
 * are contiguous in each list, and most parameters have one: only longer runs are compared. */
function dedupe(rows: IndexRows): IndexRows {
  for (const k of ROW_TABLES) {
    const list = rows[k] as { param: string }[];
    if (list.length < 2) continue;
    const out: { param: string }[] = [];
    for (let i = 0; i < list.length; ) {
      let end = i + 1;
      while (end < list.length && list[end].param === list[i].param) end++;
      if (end - i === 1) out.push(list[i]);
      else {
        // by value, whatever the view mark: a value both views have (unmarked) makes a marked
        // copy of it redundant
        const seen = new Map<string, number>();
        for (let j = i; j < end; j++) {
          const row = list[j] as { param: string; sens?: number };
          const key = rowKey(row.sens ? withoutMark(row) : row);
          const at = seen.get(key);
          if (at === undefined) {
            seen.set(key, out.length);
            out.push(row);
          } else if ((out[at] as { sens?: number }).sens && !row.sens) out[at] = row;
        }
      }
      i = end;
    }
    (rows as any)[k] = out;
  }
  return rows;
}
