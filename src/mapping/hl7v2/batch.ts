// HL7 v2 batch protocol (v2.5 §2.10.3): [FHS] { BHS { MSH … } BTS } [FTS]. The envelope is read
// from the bytes, not from decoded text: each message keeps its own character set (MSH-18), so
// the file is cut into messages first — at segment starts, which are CR or LF bytes in every
// character set this server decodes (src/mapping/hl7v2/charset.ts: single-byte sets, UTF-8, and
// multi-byte sets whose trail bytes are never CR or LF) — and each message is then read exactly
// as if it had come alone. The envelope is checked whole before any message is applied: a
// broken one is refused (AR) and nothing is stored.
import { TextDecoder } from 'node:util';
import { checkDelimiters, encodeSegment, Segment, type Delimiters, type FieldValue } from './er7.ts';
import { Hl7Error, HL7_ERROR } from './errors.ts';
import { toDtm } from './datatypes.ts';
import type { Header } from './header.ts';

/** Most messages one request (one HTTP body or one MLLP frame) may hold, over all its batches. */
export const MAX_BATCH_MESSAGES = 10_000;

const CR = 0x0d;
const LF = 0x0a;
/** escape sequences in header fields are decoded as UTF-8 (the envelope is ASCII in practice) */
const HEX_DECODER = new TextDecoder('utf-8');

/** FHS or BHS: who sent the file or batch, and its control id (BHS-11/FHS-11). */
export interface EnvelopeHeader {
  delimiters: Delimiters;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** FHS-11 / BHS-11 */
  controlId: string;
}

export interface Batch {
  header: EnvelopeHeader;
  /** each message's bytes as received, from its MSH to its last segment's terminator */
  messages: Uint8Array[];
}

export interface BatchFile {
  /** present when the request had FHS … FTS */
  file?: EnvelopeHeader;
  batches: Batch[];
}

/** Whether the bytes are a batch: their first segment is FHS or BHS (a message begins with MSH). */
export function isBatch(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  const name = String.fromCharCode(bytes[i], bytes[i + 1], bytes[i + 2]);
  return (name === 'FHS' || name === 'BHS') && i + 3 < bytes.length;
}

interface Line {
  name: string;
  /** first byte of the segment */
  start: number;
  /** first byte after the segment (its terminator) */
  end: number;
  /** 1-based position among the non-blank lines, for the error's location */
  n: number;
}

/** Non-blank lines, ended by CR, LF or CRLF (the same leniency as a message's own segments). */
function linesOf(bytes: Uint8Array): Line[] {
  const out: Line[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (start < bytes.length) {
    let end = start;
    while (end < bytes.length && bytes[end] !== CR && bytes[end] !== LF) end++;
    let blank = true;
    for (let i = start; i < end && blank; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09) blank = false;
    if (!blank) out.push({ name: String.fromCharCode(bytes[start], bytes[start + 1] ?? 0, bytes[start + 2] ?? 0), start, end, n: out.length + 1 });
    start = end + 1;
  }
  return out;
}

const broken = (message: string, location: string) => new Hl7Error('AR', HL7_ERROR.segmentSequence, message, location);

/** An FHS or BHS segment: delimiters from its fields 1 and 2, as MSH has them. */
function envelopeHeader(bytes: Uint8Array, line: Line): EnvelopeHeader {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + line.start, line.end - line.start).toString('latin1');
  const d = checkDelimiters(text, line.name);
  const seg = new Segment(line.name, [line.name, d.field, ...text.split(d.field).slice(1)], d, HEX_DECODER);
  const hd = (n: number) => seg.get(n, 0, 1) || seg.get(n, 0, 2);
  return { delimiters: d, sendingApplication: hd(3), sendingFacility: hd(4), receivingApplication: hd(5), receivingFacility: hd(6), controlId: seg.get(11) };
}

/** A trailer's count (BTS-1, FTS-1), checked against what was read when it is sent. */
function checkCount(bytes: Uint8Array, line: Line, d: Delimiters, counted: number, what: string): void {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + line.start, line.end - line.start).toString('latin1');
  const sent = (text.split(d.field)[1] ?? '').trim();
  if (sent === '') return; // optional in v2.5: the pairing of header and trailer still shows a cut batch
  if (!/^\d{1,9}$/.test(sent)) throw new Hl7Error('AR', HL7_ERROR.dataType, `the count of ${what} is not a number`, `${line.name}-1`);
  if (Number(sent) !== counted) throw broken(`${Number(sent)} ${what} announced, the ${line.name === 'BTS' ? 'batch' : 'file'} holds ${counted} (cut in transit?); nothing was applied`, `${line.name}-1`);
}

/**
 * Reads the envelope of a batch (isBatch was true) and cuts it into messages. Throws an
 * Hl7Error (AR) for a broken envelope: an FHS or BHS without its trailer, a trailer without its
 * header, a BTS-1/FTS-1 count that differs from what was read, more than MAX_BATCH_MESSAGES
 * messages, a segment outside a message (between BHS and the first MSH, between batches), a
 * message outside BHS … BTS, anything after FTS. The error carries the header of the file or
 * first batch (`envelope`) when it could be read, so the AR names what it answers.
 */
export function readBatch(bytes: Uint8Array): BatchFile {
  let file: EnvelopeHeader | undefined;
  let fileClosed = false;
  let batch: Batch | undefined;
  let batchLine = 0;
  let messageStart = -1;
  let total = 0;
  const batches: Batch[] = [];
  const closeMessage = (at: number) => {
    if (messageStart >= 0) batch!.messages.push(bytes.subarray(messageStart, at));
    messageStart = -1;
  };
  try {
    for (const line of linesOf(bytes)) {
      const where = `segment ${line.n}`;
      if (fileClosed) throw broken('segments after the file trailer (FTS)', where);
      switch (line.name) {
        case 'FHS': {
          if (line.n !== 1) throw broken('FHS must be the first segment, once', where);
          file = envelopeHeader(bytes, line);
          break;
        }
        case 'BHS': {
          closeMessage(line.start);
          if (batch) throw broken(`the batch that begins at segment ${batchLine} has no trailer (BTS) before the next BHS`, where);
          batch = { header: envelopeHeader(bytes, line), messages: [] };
          batchLine = line.n;
          break;
        }
        case 'BTS': {
          closeMessage(line.start);
          if (!batch) throw broken('a batch trailer (BTS) without its header (BHS)', where);
          checkCount(bytes, line, batch.header.delimiters, batch.messages.length, 'messages');
          batches.push(batch);
          batch = undefined;
          break;
        }
        case 'FTS': {
          closeMessage(line.start);
          if (batch) throw broken(`the batch that begins at segment ${batchLine} has no trailer (BTS)`, where);
          if (!file) throw broken('a file trailer (FTS) without its header (FHS)', where);
          checkCount(bytes, line, file.delimiters, batches.length, 'batches');
          fileClosed = true;
          break;
        }
        case 'MSH': {
          closeMessage(line.start);
          if (!batch) throw broken('a message outside a batch (every MSH of a batch file comes between BHS and BTS)', where);
          if (++total > MAX_BATCH_MESSAGES) throw broken(`more than ${MAX_BATCH_MESSAGES} messages in one request; send smaller batches`, where);
          messageStart = line.start;
          break;
        }
        default:
          // a segment of the message it follows; before the batch's first MSH it belongs to none
          if (messageStart < 0) throw broken(`segment '${line.name.replace(/[^A-Z0-9]/g, '?')}' is outside a message (between ${batch ? 'BHS' : 'batches'} and MSH)`, where);
      }
    }
    if (batch) throw broken(`the batch that begins at segment ${batchLine} has no trailer (BTS): cut in transit?`, `segment ${batchLine}`);
    if (file && !fileClosed) throw broken('the file has no trailer (FTS): cut in transit?', 'segment 1');
  } catch (err) {
    const envelope = file ?? batch?.header ?? batches[0]?.header;
    if (envelope) (err as Hl7Error & { envelope?: EnvelopeHeader }).envelope = envelope;
    throw err;
  }
  return { ...(file ? { file } : {}), batches };
}

/** The envelope of an answer: sender and receiver swapped (as an ACK's MSH swaps them). */
function answerHeader(name: 'FHS' | 'BHS', h: EnvelopeHeader, controlId: string, now: string): string {
  const d = h.delimiters;
  const fields: FieldValue[] = [h.receivingApplication || 'migfhir', h.receivingFacility, h.sendingApplication, h.sendingFacility, toDtm(now), '', '', '', controlId, h.controlId];
  return `${name}${d.field}${d.component}${d.repetition}${d.escape}${d.subcomponent}${d.field}${encodeSegment('X', fields.map(ascii), d).slice(2)}`;
}

function ascii(f: FieldValue): FieldValue {
  return typeof f === 'string' ? f.replace(/[^\x20-\x7e]/g, '?').slice(0, 199) : f;
}

/**
 * The answer to a batch file: the same envelope around one ACK a message, in order (HL7 v2.5
 * §2.10.3.3, "all messages are acknowledged"): BHS-12 and FHS-12 name the request's batch and
 * file control ids, BTS-1 counts the ACKs of each batch, FTS-1 the batches; FHS/FTS only when
 * the request had them. `acks` holds every message's ACK in request order.
 */
export function buildBatchAck(request: BatchFile, acks: string[], now: string, newId: () => string): string {
  const out: string[] = [];
  if (request.file) out.push(`${answerHeader('FHS', request.file, newId(), now)}\r`);
  let at = 0;
  for (const b of request.batches) {
    const d = b.header.delimiters;
    out.push(`${answerHeader('BHS', b.header, newId(), now)}\r`);
    for (let i = 0; i < b.messages.length; i++) out.push(acks[at++]);
    out.push(`${encodeSegment('BTS', [String(b.messages.length)], d)}\r`);
  }
  if (request.file) out.push(`${encodeSegment('FTS', [String(request.batches.length)], request.file.delimiters)}\r`);
  return out.join('');
}

/** What an ACK's MSH needs to answer a broken batch as a whole (buildAck's header). */
export function envelopeAsHeader(h: EnvelopeHeader | undefined): Partial<Header> | undefined {
  return h && { sendingApplication: h.sendingApplication, sendingFacility: h.sendingFacility, receivingApplication: h.receivingApplication, receivingFacility: h.receivingFacility, controlId: h.controlId, delimiters: h.delimiters };
}
