// HL7 v2 ER7 ("pipe and hat") encoding: parsing into segments → fields → repetitions →
// components → sub-components with escape sequences decoded, and the reverse for outbound
// messages. Written here rather than taken from the registry: @medplum/core's Hl7Message leaves
// escape sequences undecoded, and node-hl7-client decodes \Xhh\ byte by byte as Latin-1, which
// garbles every non-Latin name in a UTF-8 message; \X..\ here is decoded in the message's own
// character set.
import { TextDecoder } from 'node:util';
import { Hl7Error, HL7_ERROR } from './errors.ts';

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const DEFAULT_DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** One repetition of a field: components, each a list of sub-components (decoded text). */
export type Repetition = string[][];

/** HL7's explicit null: "delete this value" in an update. */
export const NULL = '""';

export class Segment {
  readonly name: string;
  /** raw field text, index = field number (MSH: 1 is the field separator, 2 the encoding characters) */
  readonly raw: string[];
  private readonly parsed: (Repetition[] | undefined)[] = [];
  private readonly delimiters: Delimiters;
  private readonly hexDecoder: TextDecoder;

  constructor(name: string, raw: string[], delimiters: Delimiters, hexDecoder: TextDecoder) {
    this.name = name;
    this.raw = raw;
    this.delimiters = delimiters;
    this.hexDecoder = hexDecoder;
  }

  /** The field's repetitions: empty when the field is empty, absent or HL7's null ("", see `raw`). */
  field(n: number): Repetition[] {
    let f = this.parsed[n];
    if (f) return f;
    const text = this.raw[n] ?? '';
    const d = this.delimiters;
    if (this.name === 'MSH' && n <= 2) f = text ? [[[text]]] : [];
    else f = text === '' || text === NULL ? [] : text.split(d.repetition).map((rep) => rep.split(d.component).map((c) => c.split(d.subcomponent).map((s) => unescape(s, d, this.hexDecoder))));
    this.parsed[n] = f;
    return f;
  }

  /** One value: field n, repetition r (0-based), component c and sub-component s (1-based). */
  get(n: number, r = 0, c = 1, s = 1): string {
    return this.field(n)[r]?.[c - 1]?.[s - 1] ?? '';
  }

  /** True when field n was sent with any content. */
  has(n: number): boolean {
    return (this.raw[n] ?? '') !== '';
  }

  /** Highest field number sent. */
  get size(): number {
    return this.raw.length - 1;
  }
}

export interface Message {
  delimiters: Delimiters;
  segments: Segment[];
  /** the text does not end with a segment terminator: it may have been cut (see to-fhir.ts) */
  unterminated?: boolean;
}

/** Component c, sub-component s (1-based) of one repetition. */
export function comp(rep: Repetition | undefined, c: number, s = 1): string {
  return rep?.[c - 1]?.[s - 1] ?? '';
}

const FORMATTING = /^\.(?:br|sp\d*|in[+-]?\d*|ti[+-]?\d*|sk\d*|ce|fi|nf)$/;

/** Decodes escape sequences; unknown or unterminated sequences are kept as they were sent. */
export function unescape(s: string, d: Delimiters, hexDecoder: TextDecoder): string {
  const e = d.escape;
  if (!e || !s.includes(e)) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const start = s.indexOf(e, i);
    if (start < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, start);
    const end = s.indexOf(e, start + 1);
    if (end < 0) {
      out += s.slice(start);
      break;
    }
    const seq = s.slice(start + 1, end);
    out += decodeSequence(seq, d, hexDecoder) ?? s.slice(start, end + 1);
    i = end + 1;
  }
  return out;
}

function decodeSequence(seq: string, d: Delimiters, hexDecoder: TextDecoder): string | undefined {
  switch (seq) {
    case 'F': return d.field;
    case 'S': return d.component;
    case 'T': return d.subcomponent;
    case 'R': return d.repetition;
    case 'E': return d.escape;
    case 'H': case 'N': return ''; // highlighting on/off: presentation only
    case '.br': return '\n';
  }
  if (seq[0] === 'X' && seq.length > 1 && (seq.length - 1) % 2 === 0 && /^[0-9A-Fa-f]+$/.test(seq.slice(1))) {
    const bytes = Buffer.from(seq.slice(1), 'hex');
    try {
      return hexDecoder.decode(bytes);
    } catch {
      return undefined; // bytes not valid in the message's character set: keep the sequence
    }
  }
  if (FORMATTING.test(seq)) return '';
  return undefined;
}

/** Encodes text for a field value: delimiters and line breaks become escape sequences. */
export function escape(s: string, d: Delimiters = DEFAULT_DELIMITERS): string {
  // most values hold no delimiter: returned as they are, without a walk code point by code point
  if (!hasDelimiter(s, d)) return s;
  let out = '';
  for (const ch of s) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.subcomponent) out += `${d.escape}T${d.escape}`;
    else if (ch === d.repetition) out += `${d.escape}R${d.escape}`;
    else if (ch === '\r') out += `${d.escape}X0D${d.escape}`;
    else if (ch === '\n') out += `${d.escape}X0A${d.escape}`;
    else out += ch;
  }
  return out;
}

function hasDelimiter(s: string, d: Delimiters): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === d.escape || ch === d.field || ch === d.component || ch === d.subcomponent || ch === d.repetition || ch === '\r' || ch === '\n') return true;
  }
  return false;
}

/** The delimiters a header segment (MSH, or a batch's FHS/BHS) declares in its fields 1 and 2. */
export function checkDelimiters(header: string, segment = 'MSH'): Delimiters {
  if (header.length < 8) throw new Hl7Error('AR', HL7_ERROR.requiredMissing, `The ${segment} segment is truncated: no encoding characters`, `${segment}-2`);
  const [field, component, repetition, escapeChar, subcomponent] = [header[3], header[4], header[5], header[6], header[7]];
  const all = [field, component, repetition, escapeChar, subcomponent];
  const bad = all.find((c) => /[A-Za-z0-9\s]/.test(c));
  if (bad !== undefined || new Set(all).size !== all.length) {
    throw new Hl7Error('AR', HL7_ERROR.dataType, `${segment}-1/${segment}-2 must be five distinct delimiter characters (usually |^~\\&)`, `${segment}-2`);
  }
  // v2.7 adds a truncation character after the sub-component separator
  const next = header[8];
  if (next !== field && next !== '#') throw new Hl7Error('AR', HL7_ERROR.dataType, `${segment}-2 must be followed by the field separator`, `${segment}-2`);
  return { field, component, repetition, escape: escapeChar, subcomponent };
}

/**
 * Longest field accepted, in characters (after decoding, before unescaping). ADT fields are
 * short (HL7 v2.5 gives most of them 250 characters or less); a field past this is a broken or
 * hostile message, refused whole (AR) on both doors rather than stored cut.
 */
export const MAX_FIELD_CHARS = 65_536;

/**
 * Parses decoded message text. Segments may end with CR (the standard), LF or CRLF: line endings
 * are read leniently, since HTTP clients and file-drop gateways rewrite CR, and a segment can
 * never contain a raw line break (HL7 escapes it as \X0D\ or \.br\), so reading LF as a segment
 * end cannot misread a message.
 */
export function parseEr7(text: string, hexDecoder: TextDecoder): Message {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  if (!lines.length || !lines[0].startsWith('MSH')) {
    throw new Hl7Error('AR', HL7_ERROR.segmentSequence, 'A message must begin with an MSH segment', 'MSH');
  }
  const d = checkDelimiters(lines[0]);
  const segments: Segment[] = [];
  for (const [i, line] of lines.entries()) {
    const parts = line.split(d.field);
    const name = parts[0];
    if (line.length > MAX_FIELD_CHARS) {
      const n = parts.findIndex((p) => p.length > MAX_FIELD_CHARS);
      if (n >= 0) throw new Hl7Error('AR', HL7_ERROR.dataType, `a field is longer than ${MAX_FIELD_CHARS} characters`, n === 0 ? `segment ${i + 1}` : `${name.slice(0, 3)}-${name === 'MSH' ? n + 1 : n}`);
    }
    if (!/^[A-Z][A-Z0-9]{2}$/.test(name)) {
      throw new Hl7Error('AR', HL7_ERROR.segmentSequence, `Segment ${i + 1} has no valid segment id`, `segment ${i + 1}`);
    }
    if (name === 'MSH' && i > 0) throw new Hl7Error('AR', HL7_ERROR.segmentSequence, 'Only one MSH segment per message (a batch of messages begins with BHS or FHS)', `segment ${i + 1}`);
    const raw = name === 'MSH' ? ['MSH', d.field, ...parts.slice(1)] : parts;
    segments.push(new Segment(name, raw, d, hexDecoder));
  }
  return { delimiters: d, segments, ...(/[\r\n]\s*$/.test(text) ? {} : { unterminated: true }) };
}

/** A component to write: one value, or its sub-components. */
export type Component = string | undefined | (string | undefined)[];
/** A field to write: one value, the components of one repetition, or several repetitions. */
export type FieldValue = string | undefined | Component[] | { reps: Component[][] };

function trimEnd<T>(xs: T[], empty: (x: T) => boolean): T[] {
  let n = xs.length;
  while (n > 0 && empty(xs[n - 1])) n--;
  return xs.slice(0, n);
}

function encodeRep(rep: Component[], d: Delimiters): string {
  const comps = Array.from(rep, (c) => (Array.isArray(c) ? trimEnd(c.map((s) => escape(s ?? '', d)), (x) => x === '').join(d.subcomponent) : escape(c ?? '', d)));
  return trimEnd(comps, (x) => x === '').join(d.component);
}

/** Encodes one field; empty repetitions in the middle are kept (their position is data). */
export function encodeField(v: FieldValue, d: Delimiters = DEFAULT_DELIMITERS): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return escape(v, d);
  if (Array.isArray(v)) return encodeRep(v, d);
  return trimEnd(Array.from(v.reps, (r) => encodeRep(r ?? [], d)), (x) => x === '').join(d.repetition);
}

/** Encodes one segment; trailing empty fields are left out. */
export function encodeSegment(name: string, fields: FieldValue[], d: Delimiters = DEFAULT_DELIMITERS): string {
  // Array.from: sparse field lists (fields set by number) have holes, which map() would keep
  const encoded = trimEnd(Array.from(fields, (f) => encodeField(f, d)), (x) => x === '');
  return [name, ...encoded].join(d.field);
}
