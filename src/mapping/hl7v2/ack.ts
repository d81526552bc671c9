// Original-mode acknowledgments (HL7 v2.5 §2.9): MSA with AA (applied), AE (read but not
// applied: content error) or AR (rejected: header, type, version or character set), and an ERR
// segment per error or warning (ERR-2 location, ERR-3 table 0357 code, ERR-4 severity). ACK text
// is kept ASCII so that it reads the same in whatever character set the sender expects.
import { DEFAULT_DELIMITERS, encodeSegment, type Delimiters, type FieldValue } from './er7.ts';
import type { AckCode, Hl7Warning } from './errors.ts';
import type { Header } from './header.ts';
import { toDtm } from './datatypes.ts';

export interface AckInput {
  code: AckCode;
  /** the message answered; absent when not even its MSH could be read */
  header?: Partial<Header>;
  controlId: string;
  now: string;
  text?: string;
  errors?: { code: string; location?: string; message: string; severity: 'E' | 'W' }[];
}

function ascii(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 250);
}

/** "PID-7" → ERL "PID^1^7" (segment, sequence, field). */
function erl(location: string | undefined): FieldValue {
  const m = /^([A-Z][A-Z0-9]{2})(?:-(\d+))?/.exec(location ?? '');
  return m ? [m[1], '1', m[2]] : undefined;
}

export function buildAck(a: AckInput): string {
  const h = a.header ?? {};
  const d: Delimiters = h.delimiters ?? DEFAULT_DELIMITERS;
  const msh: FieldValue[] = [
    h.receivingApplication ?? 'migfhir', h.receivingFacility, h.sendingApplication, h.sendingFacility, toDtm(a.now), '',
    h.event ? ['ACK', h.event, 'ACK'] : 'ACK', a.controlId, h.processingId || 'P', h.version || '2.5',
  ].map((f) => (typeof f === 'string' ? ascii(f) : Array.isArray(f) ? f.map((c) => (typeof c === 'string' ? ascii(c) : c)) : f));
  const head = `MSH${d.field}${d.component}${d.repetition}${d.escape}${d.subcomponent}${d.field}${encodeSegment('X', msh, d).slice(2)}`;
  const segments = [head, encodeSegment('MSA', [a.code, ascii(h.controlId ?? ''), a.text ? ascii(a.text) : undefined], d)];
  for (const e of a.errors ?? []) {
    segments.push(encodeSegment('ERR', ['', erl(e.location), [e.code, '', 'HL70357'], e.severity, '', '', '', ascii(e.message)], d));
  }
  return `${segments.join('\r')}\r`;
}

export function warningErrors(warnings: Hl7Warning[]): AckInput['errors'] {
  // 0357 code 0 = message accepted (103 for a local code of a user-defined table, kept as such);
  // the warning says what was not stored, or how it was stored
  return warnings.slice(0, 50).map((w) => ({ code: w.code ?? '0', location: w.location, message: w.message, severity: 'W' as const }));
}
