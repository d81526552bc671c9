// Reading a message: bytes → text (MSH-18) → segments, and the checks on MSH that decide
// between accepting a message and rejecting it (AR): type, trigger event, version, processing
// id, control id. What a rejected message's ACK needs is kept even when the checks fail.
import { TextDecoder } from 'node:util';
import { decodeMessage, charsetOf } from './charset.ts';
import { parseEr7, type Delimiters, type Message, type Segment } from './er7.ts';
import { Hl7Error, HL7_ERROR } from './errors.ts';

export interface Hl7v2Input {
  /** the message as received (MLLP frame content or HTTP body); decoded per MSH-18 */
  bytes?: Uint8Array;
  /** or already-decoded text */
  text?: string;
  /** a character set to use when MSH-18 is empty (e.g. the HTTP charset parameter) */
  charset?: string;
  /** when the server received it (Provenance.recorded); now when absent */
  received?: string;
}

export interface Header {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-7 */
  datetime: string;
  messageType: string;
  event: string;
  structure: string;
  controlId: string;
  processingId: string;
  version: string;
  charset: string;
  delimiters: Delimiters;
}

export const SUPPORTED_EVENTS = ['A01', 'A03', 'A04', 'A08', 'A28', 'A31', 'A34', 'A36', 'A40'] as const;
export type AdtEvent = (typeof SUPPORTED_EVENTS)[number];
/** ADT's segment grammar did not change in ways that matter here from 2.3 to 2.8. */
const VERSIONS = /^2\.(?:3(?:\.1)?|4|5(?:\.1)?|6|7(?:\.1)?|8(?:\.\d)?)$/;

/** HD as a readable name: namespace id, else universal id. */
function hd(seg: Segment, n: number): string {
  return seg.get(n, 0, 1) || seg.get(n, 0, 2);
}

export function headerOf(msh: Segment, delimiters: Delimiters, charset: string): Header {
  return {
    sendingApplication: hd(msh, 3),
    sendingFacility: hd(msh, 4),
    receivingApplication: hd(msh, 5),
    receivingFacility: hd(msh, 6),
    datetime: msh.get(7),
    messageType: msh.get(9, 0, 1),
    event: msh.get(9, 0, 2),
    structure: msh.get(9, 0, 3),
    controlId: msh.get(10),
    processingId: msh.get(11),
    version: msh.get(12),
    charset,
    delimiters,
  };
}

export interface ReadMessage {
  message: Message;
  header: Header;
}

/**
 * Decodes and parses a message and checks its header. On failure the thrown Hl7Error carries
 * `header` when MSH could be read, so the ACK can still name the message it answers.
 */
export function readMessage(input: Hl7v2Input): ReadMessage {
  let text: string;
  let hexDecoder: TextDecoder;
  if (input.bytes) {
    const decoded = decodeMessage(input.bytes, input.charset);
    text = decoded.text;
    hexDecoder = decoded.charset.decoder;
  } else {
    text = input.text ?? '';
    hexDecoder = charsetOf('', 'utf-8').decoder;
  }
  const message = parseEr7(text, hexDecoder);
  const msh = message.segments[0];
  const header = headerOf(msh, message.delimiters, msh.get(18));
  try {
    checkHeader(header);
  } catch (err) {
    (err as Hl7Error & { header?: Header }).header = header;
    throw err;
  }
  return { message, header };
}

function checkHeader(h: Header): void {
  if (!h.controlId) throw new Hl7Error('AR', HL7_ERROR.requiredMissing, 'the message control id is required', 'MSH-10');
  if (h.controlId.length > 199) throw new Hl7Error('AR', HL7_ERROR.dataType, 'the message control id is longer than 199 characters', 'MSH-10');
  if (!h.messageType) throw new Hl7Error('AR', HL7_ERROR.requiredMissing, 'the message type is required', 'MSH-9');
  if (h.messageType !== 'ADT') throw new Hl7Error('AR', HL7_ERROR.unsupportedMessageType, `message type '${h.messageType.slice(0, 10)}' is not supported (only ADT)`, 'MSH-9');
  if (!(SUPPORTED_EVENTS as readonly string[]).includes(h.event)) {
    throw new Hl7Error('AR', HL7_ERROR.unsupportedEvent, `trigger event '${h.event.slice(0, 10)}' is not supported (${SUPPORTED_EVENTS.join(', ')})`, 'MSH-9');
  }
  if (!VERSIONS.test(h.version)) throw new Hl7Error('AR', HL7_ERROR.unsupportedVersion, `version '${h.version.slice(0, 10)}' is not supported (2.3 to 2.8)`, 'MSH-12');
  const pid = h.processingId;
  if (pid && !['P', 'T', 'D'].includes(pid)) throw new Hl7Error('AR', HL7_ERROR.unsupportedProcessingId, `processing id '${pid.slice(0, 5)}' is not P, T or D`, 'MSH-11');
}

/** The sender's message-id namespace: Provenance records `<this>#<control id>` as the source. */
export function messageSystem(h: Pick<Header, 'sendingApplication' | 'sendingFacility'>): string {
  return `https://migfhir.org/fhir/sid/hl7v2-message/${encodeURIComponent(h.sendingFacility || '-')}/${encodeURIComponent(h.sendingApplication || '-')}`;
}

export function messageSource(h: Pick<Header, 'sendingApplication' | 'sendingFacility' | 'controlId'>): string {
  return `${messageSystem(h)}#${encodeURIComponent(h.controlId)}`;
}
