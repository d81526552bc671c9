// HL7 v2 data types ↔ FHIR data types, both ways (after the HL7 v2-to-FHIR IG's datatype maps:
// CX → Identifier, XPN → HumanName, XAD → Address, XTN → ContactPoint, CE/CWE →
// CodeableConcept, DTM → date/dateTime). Pure functions over parsed repetitions.
import type { Address, CodeableConcept, Coding, ContactPoint, Extension, HumanName, Identifier, Period } from 'fhir/r4.js';
import { comp, type Component, type Repetition } from './er7.ts';
import { Hl7Error, HL7_ERROR, type Hl7Warning } from './errors.ts';
import { authorityForSystem, systemForAuthority } from '../identifiers.ts';
import {
  ADDRESS_USE, BCP47, codingSystemName, codingSystemUri, EXT, ISO639_2_TO_1, localCodeSystem, NAME_TYPE, USER_DEFINED_TABLES, v2TableCodes, REPRESENTATION, TELECOM_EQUIPMENT, TELECOM_USE, toFhirCode, toV2Code, V2,
} from './tables.ts';

// ---- DTM ----------------------------------------------------------------------------------

const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;

function validDate(y: string, m?: string, d?: string): boolean {
  if (m && (+m < 1 || +m > 12)) return false;
  if (d) {
    const days = new Date(Date.UTC(+y, +m!, 0)).getUTCDate();
    if (+d < 1 || +d > days) return false;
  }
  return true;
}

/** A DTM as a FHIR date (the date part, at the precision sent). */
export function dtmToDate(v: string, location: string): string | undefined {
  if (!v) return undefined;
  const m = DTM.exec(v.trim());
  if (!m || !validDate(m[1], m[2], m[3])) throw new Hl7Error('AE', HL7_ERROR.dataType, 'is not a valid HL7 date (YYYY[MM[DD]])', location);
  return [m[1], m[2], m[3]].filter(Boolean).join('-');
}

/** A DTM as a FHIR dateTime. A time without an offset takes `defaultOffset` (MSH-7's, or the server's). */
export function dtmToDateTime(v: string, location: string, defaultOffset?: string): string | undefined {
  if (!v) return undefined;
  const m = DTM.exec(v.trim());
  if (!m || !validDate(m[1], m[2], m[3]) || (m[4] && +m[4] > 23) || (m[5] && +m[5] > 59) || (m[6] && +m[6] > 59)) {
    throw new Hl7Error('AE', HL7_ERROR.dataType, 'is not a valid HL7 date/time (YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ])', location);
  }
  const date = [m[1], m[2], m[3]].filter(Boolean).join('-');
  if (!m[4]) return date;
  const offset = m[8] ?? defaultOffset ?? localOffset(date);
  const tz = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  return `${date}T${m[4]}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ? `.${m[7]}` : ''}${tz === '+00:00' ? 'Z' : tz}`;
}

/** The offset (+HHMM) of a DTM, when it has one. */
export function dtmOffset(v: string): string | undefined {
  return DTM.exec(v.trim())?.[8];
}

/** The server's UTC offset on that day: HL7 says a time without offset is the sender's local time. */
function localOffset(date: string): string {
  const minutes = -new Date(`${date.length === 10 ? date : `${date}-01-01`.slice(0, 10)}T12:00:00`).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

/**
 * A wrong date in a data field costs the field, not the message: the field is dropped with an
 * ERR warning (0357 code 102) and the rest is stored, so a mistyped visit date does not lose a
 * hospital the patient (HL7 v2.5 §2.9: AE is for content that cannot be applied at all). Without
 * a warnings list (outbound checks, header fields) the error stands.
 */
export function droppedIfInvalid<T>(warnings: Hl7Warning[] | undefined, parse: () => T): T | undefined {
  if (!warnings) return parse();
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof Hl7Error) || e.code !== HL7_ERROR.dataType) throw e;
    warnings.push({ location: e.location ?? '', message: `${e.message}; the field was not stored`, code: HL7_ERROR.dataType });
    return undefined;
  }
}

/**
 * PID-7 as a FHIR date. Registrations of people without papers often write an unknown month or
 * day as 00 (19850000, 19850600); that is read as a date of year (or month) precision, which is
 * what FHIR's partial dates are for, with a warning saying so.
 */
export function birthDateOf(v: string, location: string, warnings?: Hl7Warning[]): string | undefined {
  const unknown = /^(\d{4})(?:(0[1-9]|1[0-2])00|0000)$/.exec(v.trim());
  if (unknown) {
    warnings?.push({ location, message: `${location}: month or day 00 read as unknown; stored as ${unknown[2] ? `${unknown[1]}-${unknown[2]}` : unknown[1]}` });
    return unknown[2] ? `${unknown[1]}-${unknown[2]}` : unknown[1];
  }
  return droppedIfInvalid(warnings, () => dtmToDate(v, location));
}

/** A FHIR date or dateTime as a DTM, keeping its precision and offset. */
export function toDtm(v: string | undefined): string {
  if (!v) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(v);
  if (!m) return '';
  let out = m[1] + (m[2] ?? '') + (m[3] ?? '');
  if (m[4]) {
    out += m[4] + m[5] + m[6] + (m[7] ? `.${m[7].slice(0, 4)}` : '');
    out += !m[8] || m[8] === 'Z' ? '+0000' : m[8].replace(':', '');
  }
  return out;
}

// ---- CX → Identifier ----------------------------------------------------------------------

/** Table 0203's NNxxx: a national person identifier of the country xxx (ISO 3166 alpha-3). */
const NATIONAL_PERSON = /^NN[A-Z]{3}$/;

/** CX: 1 id, 4 assigning authority (HD), 5 identifier type, 7/8 effective/expiration date. */
export function cxToIdentifier(rep: Repetition, location: string, defaultAuthority?: string, warnings?: Hl7Warning[]): Identifier | undefined {
  const value = comp(rep, 1);
  if (!value) return undefined;
  const typeCode = comp(rep, 5);
  let authority = { namespace: comp(rep, 4, 1), universalId: comp(rep, 4, 2), universalIdType: comp(rep, 4, 3) };
  if (!authority.namespace && !authority.universalId && defaultAuthority) authority = { namespace: defaultAuthority, universalId: '', universalIdType: '' };
  const found = systemForAuthority(authority, typeCode);
  if (!found) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, 'the identifier has no assigning authority (CX-4)', location);
  const id: Identifier = {};
  const use = found.known?.use;
  if (use) id.use = use;
  if (typeCode && NATIONAL_PERSON.test(typeCode)) {
    // table 0203's NNxxx (national person identifier of the country with ISO 3166 code xxx, as
    // IHE PAM national extensions send PESEL as NNPOL, the codice fiscale as NNITA) is HL7's
    // value, not a local one; R4's v2-0203 lists only the pattern, so the code is kept as the
    // national authority's own type when the authority is known, else under the sender's system
    id.type = found.known ? { coding: [{ ...found.known.type }] } : { coding: [{ system: localCodeSystem(defaultAuthority ?? '', '0203'), code: typeCode }] };
  } else if (typeCode) {
    const sameAsTable = found.known?.type.code === typeCode;
    id.type = { coding: [{ system: sameAsTable ? found.known!.type.system : V2('0203'), code: typeCode }] };
    if (warnings) localize(id.type.coding![0], '0203', `${location}.5`, { sender: defaultAuthority ?? '', warnings });
  } else if (found.known) id.type = { coding: [{ ...found.known.type }] };
  id.system = found.system;
  id.value = value;
  const period = droppedIfInvalid(warnings, () => periodOf(comp(rep, 7), comp(rep, 8), `${location}.7`));
  if (period) id.period = period;
  return id;
}

export function identifierToCx(id: Identifier): Component[] {
  const a = id.system ? authorityForSystem(id.system) : {};
  return [id.value, '', '', [a.namespace, a.universalId, a.universalIdType], id.type?.coding?.[0]?.code, '', toDtm(id.period?.start), toDtm(id.period?.end)];
}

function periodOf(start: string, end: string, location: string): Period | undefined {
  const s = dtmToDate(start, location);
  const e = dtmToDate(end, location);
  if (!s && !e) return undefined;
  return { ...(s ? { start: s } : {}), ...(e ? { end: e } : {}) };
}

// ---- XPN → HumanName ----------------------------------------------------------------------

/** XPN: 1 family, 2 given, 3 further given names, 4 suffix, 5 prefix, 6 degree, 7 type, 8 representation, 12/13 dates. */
export function xpnToHumanName(rep: Repetition, location: string): HumanName | undefined {
  const name: HumanName = {};
  const use = toFhirCode(NAME_TYPE, comp(rep, 7));
  if (use) name.use = use as HumanName['use'];
  const family = comp(rep, 1);
  if (family) name.family = family;
  const given = [comp(rep, 2), ...comp(rep, 3).split(/\s+/)].filter(Boolean);
  if (given.length) name.given = given;
  const prefix = comp(rep, 5);
  if (prefix) name.prefix = [prefix];
  const suffix = [comp(rep, 4), comp(rep, 6)].filter(Boolean);
  if (suffix.length) name.suffix = suffix;
  const period = periodOf(comp(rep, 12), comp(rep, 13), location);
  if (period) name.period = period;
  const representation = toFhirCode(REPRESENTATION, comp(rep, 8));
  if (representation) name.extension = [{ url: EXT.representation, valueCode: representation }];
  return name.family || name.given ? name : undefined;
}

export function humanNameToXpn(n: HumanName): Component[] {
  const rep = n.extension?.find((e) => e.url === EXT.representation)?.valueCode;
  return [
    n.family, n.given?.[0], n.given?.slice(1).join(' '), n.suffix?.[0], n.prefix?.join(' '), n.suffix?.slice(1).join(' '),
    n.use ? toV2Code(NAME_TYPE, n.use) : '', rep ? toV2Code(REPRESENTATION, rep) : '', '', '', '', toDtm(n.period?.start), toDtm(n.period?.end),
  ];
}

// ---- XAD → Address ------------------------------------------------------------------------

/** XAD: 1 street, 2 other designation, 3 city, 4 state, 5 postal code, 6 country, 7 type, 9 county, 13/14 dates. */
export function xadToAddress(rep: Repetition, location: string): Address | undefined {
  const a: Address = {};
  const type = comp(rep, 7);
  const use = toFhirCode(ADDRESS_USE, type);
  if (use) a.use = use as Address['use'];
  if (type === 'M') a.type = 'postal';
  const line = [comp(rep, 1), comp(rep, 2)].filter(Boolean);
  if (line.length) a.line = line;
  const fields: [keyof Address, number][] = [['city', 3], ['district', 9], ['state', 4], ['postalCode', 5], ['country', 6]];
  for (const [k, i] of fields) {
    const v = comp(rep, i);
    if (v) (a as Record<string, unknown>)[k] = v;
  }
  const period = periodOf(comp(rep, 13), comp(rep, 14), location);
  if (period) a.period = period;
  return a.line || a.city || a.state || a.postalCode || a.country || a.district ? a : undefined;
}

export function addressToXad(a: Address, typeOverride?: string): Component[] {
  const type = typeOverride ?? (a.type === 'postal' && !a.use ? 'M' : a.use ? toV2Code(ADDRESS_USE, a.use) : '');
  return [a.line?.[0], a.line?.slice(1).join(', '), a.city, a.state, a.postalCode, a.country, type, '', a.district, '', '', '', toDtm(a.period?.start), toDtm(a.period?.end)];
}

// ---- XTN → ContactPoint -------------------------------------------------------------------

/** XTN: 1 number (pre-2.5 form), 2 use, 3 equipment, 4 email, 12 unformatted number. */
export function xtnToContactPoint(rep: Repetition, defaultUse: ContactPoint['use']): ContactPoint | undefined {
  const equipment = comp(rep, 3);
  const system = (toFhirCode(TELECOM_EQUIPMENT, equipment) ?? (comp(rep, 4) ? 'email' : 'phone')) as ContactPoint['system'];
  const value = system === 'email' ? comp(rep, 4) || comp(rep, 1) : comp(rep, 12) || comp(rep, 1) || [comp(rep, 5) && `+${comp(rep, 5)}`, comp(rep, 6), comp(rep, 7)].filter(Boolean).join(' ');
  if (!value) return undefined;
  const use = equipment === 'CP' ? 'mobile' : ((toFhirCode(TELECOM_USE, comp(rep, 2)) ?? defaultUse) as ContactPoint['use']);
  return { system, value, ...(use ? { use } : {}) };
}

export function contactPointToXtn(c: ContactPoint): Component[] {
  const equipment = c.use === 'mobile' ? 'CP' : toV2Code(TELECOM_EQUIPMENT, c.system ?? 'phone') ?? 'PH';
  const use = c.system === 'email' ? (c.use === 'work' ? 'WPN' : 'NET') : c.use === 'mobile' ? 'PRN' : toV2Code(TELECOM_USE, c.use ?? 'home') ?? 'PRN';
  return c.system === 'email' ? ['', use, equipment, c.value] : [c.value, use, equipment];
}

// ---- CE/CWE → CodeableConcept -------------------------------------------------------------

/** CE: 1 code, 2 text, 3 coding system; 4–6 the same for an alternate coding. */
export function ceToCodeableConcept(rep: Repetition | undefined, defaultSystem?: string): CodeableConcept | undefined {
  if (!rep) return undefined;
  const coding = [];
  for (const base of [1, 4]) {
    const code = comp(rep, base);
    if (!code) continue;
    const system = codingSystemUri(comp(rep, base + 2)) ?? (base === 1 ? defaultSystem : undefined);
    const display = comp(rep, base + 1);
    coding.push({ ...(system ? { system } : {}), code, ...(display ? { display } : {}) });
  }
  const text = comp(rep, 2);
  if (!coding.length) return text ? { text } : undefined;
  return { coding };
}

/** A language (PID-15, NK1-20) as BCP 47: ISO 639-2 codes of older feeds become the
 * two-letter code FHIR's language binding expects. */
export function languageConcept(rep: Repetition | undefined): CodeableConcept | undefined {
  const cc = ceToCodeableConcept(rep, BCP47);
  const coding = cc?.coding?.[0];
  if (coding?.system === BCP47 && coding.code) coding.code = ISO639_2_TO_1[coding.code.toLowerCase()] ?? coding.code;
  return cc;
}

/** Who sent a field and where it is: what local codes and warnings are scoped to. */
export interface FieldContext {
  /** MSH-4 sending facility: local codes are that sender's */
  sender: string;
  warnings: Hl7Warning[];
}

/**
 * A code of HL7 user-defined table `table` that is not one of HL7's suggested values is the
 * sender's local code (PV1-10 EMR, PED, GYN…): kept with its text under the sender's own system
 * for that table, and reported as an ERR warning (0357 code 103), never a refusal.
 */
export function localize(c: Coding, table: string, location: string, ctx: FieldContext): void {
  // only user-defined tables have local codes; HL7-defined ones keep their closed meaning
  if (!USER_DEFINED_TABLES.has(table) || c.system !== V2(table) || !c.code) return;
  const held = v2TableCodes(table);
  if (!held || held.has(c.code)) return;
  c.system = localCodeSystem(ctx.sender, table);
  ctx.warnings.push({ location, code: HL7_ERROR.tableValue, message: `${location}: '${c.code.slice(0, 20)}' is not an HL7 value of user-defined table ${table}; kept as the sender's local code` });
}

/** CE/CWE of a user-defined table, local codes kept (see localize). */
export function tableConcept(rep: Repetition | undefined, table: string, location: string, ctx: FieldContext): CodeableConcept | undefined {
  const cc = ceToCodeableConcept(rep, V2(table));
  for (const c of cc?.coding ?? []) localize(c, table, location, ctx);
  return cc;
}

export function codeableConceptToCe(cc: CodeableConcept | undefined): Component[] {
  const c = cc?.coding?.[0];
  if (!c) return cc?.text ? ['', cc.text] : [];
  return [c.code, c.display, codingSystemName(c.system)];
}

/** A complex extension holding one CodeableConcept in its `code` slice (nationality, citizenship). */
export function codeExtension(url: string, cc: CodeableConcept): Extension {
  return { url, extension: [{ url: 'code', valueCodeableConcept: cc }] };
}
