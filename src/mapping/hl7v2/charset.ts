// Character sets of HL7 v2 messages (MSH-18, table 0211) → WHATWG TextDecoder labels.
// Messages arrive as bytes; MSH itself is ASCII in every supported set, so MSH-18 is read from
// the raw bytes first and the whole message is then decoded strictly: bytes that are not valid
// in the declared set reject the message instead of turning into mojibake in a patient's name.
import { TextDecoder } from 'node:util';
import { Hl7Error } from './errors.ts';

/** HL7 table 0211 names (v2.5) and the common non-standard spellings feeds send. */
const TABLE_0211: Record<string, string> = {
  'ASCII': 'utf-8', // ASCII is a subset; non-ASCII bytes then must at least be valid UTF-8
  'ISO IR6': 'utf-8',
  '8859/1': 'iso-8859-1', 'ISO IR100': 'iso-8859-1',
  '8859/2': 'iso-8859-2', 'ISO IR101': 'iso-8859-2',
  '8859/3': 'iso-8859-3', 'ISO IR109': 'iso-8859-3',
  '8859/4': 'iso-8859-4', 'ISO IR110': 'iso-8859-4',
  '8859/5': 'iso-8859-5', 'ISO IR144': 'iso-8859-5',
  '8859/6': 'iso-8859-6', 'ISO IR127': 'iso-8859-6',
  '8859/7': 'iso-8859-7', 'ISO IR126': 'iso-8859-7',
  '8859/8': 'iso-8859-8', 'ISO IR138': 'iso-8859-8',
  '8859/9': 'iso-8859-9', 'ISO IR148': 'iso-8859-9',
  '8859/15': 'iso-8859-15',
  'UNICODE UTF-8': 'utf-8',
  'GB 18030-2000': 'gb18030',
  'BIG-5': 'big5',
  'KS X 1001': 'euc-kr',
  'JAS2020': 'iso-2022-jp', 'JIS X 0202': 'iso-2022-jp',
};

/** Declared but not decodable here: wide encodings break MLLP's single-byte framing. */
const UNSUPPORTED = /^UNICODE(?: UTF-(?:16|32))?$/;

export interface Charset {
  /** the MSH-18 value as sent ('' when absent) */
  declared: string;
  /** the TextDecoder label used */
  label: string;
  decoder: TextDecoder;
}

const decoders = new Map<string, TextDecoder>();
function decoderFor(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label, { fatal: true })));
  return d;
}

/** The charset of MSH-18; `fallback` (e.g. an HTTP charset parameter) when MSH-18 is empty. */
export function charsetOf(declared: string, fallback?: string): Charset {
  const name = declared.trim();
  if (!name) {
    const label = fallback ? labelOf(fallback) : 'utf-8';
    if (!label) throw new Hl7Error('AR', '102', `Unsupported character set '${fallback!.slice(0, 40)}'`, 'MSH-18');
    return { declared: '', label, decoder: decoderFor(label) };
  }
  if (UNSUPPORTED.test(name.toUpperCase())) throw new Hl7Error('AR', '102', `Character set '${name.slice(0, 40)}' is not supported (use UNICODE UTF-8)`, 'MSH-18');
  const label = labelOf(name);
  if (!label) throw new Hl7Error('AR', '102', `Unknown character set '${name.slice(0, 40)}' in MSH-18`, 'MSH-18');
  return { declared: name, label, decoder: decoderFor(label) };
}

function labelOf(name: string): string | undefined {
  const table = TABLE_0211[name.toUpperCase().replace(/\s+/g, ' ')];
  if (table) return table;
  try {
    // non-standard but unambiguous declarations ("UTF-8", "ISO-8859-7", "windows-1256")
    return new TextDecoder(name).encoding;
  } catch {
    return undefined;
  }
}

/** MSH-18 read from the raw bytes (MSH is ASCII whatever the message's character set). */
export function declaredCharset(bytes: Uint8Array): string {
  const end = Math.min(bytes.length, 4096);
  let stop = end;
  for (let i = 0; i < end; i++) {
    if (bytes[i] === 0x0d || bytes[i] === 0x0a) {
      stop = i;
      break;
    }
  }
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, stop).toString('latin1');
  const start = header.indexOf('MSH');
  if (start < 0 || header.length < start + 8) return '';
  const sep = header[start + 3];
  const repetition = header[start + 5];
  const component = header[start + 4];
  const fields = header.slice(start).split(sep);
  const msh18 = fields[17] ?? '';
  return msh18.split(repetition)[0].split(component)[0];
}

/** Decodes a message's bytes with its declared character set; AR when they do not fit it. */
export function decodeMessage(bytes: Uint8Array, fallback?: string): { text: string; charset: Charset } {
  const charset = charsetOf(declaredCharset(bytes), fallback);
  try {
    return { text: charset.decoder.decode(bytes), charset };
  } catch {
    throw new Hl7Error('AR', '102', `The message holds bytes that are not valid ${charset.declared || charset.label}; declare its character set in MSH-18`, 'MSH-18');
  }
}

/** The charset parameter of an HTTP Content-Type ($hl7v2-ingest), when the sender gave one: the
 * character set of a message whose MSH-18 names none. */
export function charsetParameter(contentType: string | undefined): string | undefined {
  return /charset=("?)([A-Za-z0-9_.:\-]+)\1/i.exec(contentType ?? '')?.[2];
}
