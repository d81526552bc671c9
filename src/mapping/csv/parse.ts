// CSV text → header and rows, with csv-parse (RFC 4180 quoting, embedded newlines, BOM).
// Spreadsheet exports differ by locale: ";" where the decimal separator is ",", tabs from
// "Unicode text", UTF-16 from older Excel; the delimiter is detected on the header line unless
// the mapping fixes it. A row csv-parse cannot read (a quote left open) is kept as a row error
// with its line number, never dropped: the rest of the file is still read.
import { parse } from 'csv-parse/sync';
import { badRequest } from '../../fhir/errors.ts';

export interface CsvRow {
  /** 1-based data row (the header is row 0) */
  row: number;
  /** line of the file where the row starts */
  line: number;
  values: Record<string, string>;
}

export interface CsvRowError {
  row: number;
  line: number;
  column?: string;
  message: string;
}

export interface ParsedCsv {
  header: string[];
  rows: CsvRow[];
  errors: CsvRowError[];
}

/** Text of a file's bytes: UTF-16 (with its BOM) or UTF-8 (the BOM is removed by the parser). */
export function decode(bytes: Buffer | string): string {
  if (typeof bytes === 'string') return bytes;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  return bytes.toString('utf8');
}

/** The delimiter that splits the header line (outside quotes) most often. */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const c of text.replace(/^\uFEFF/, '')) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c in counts) counts[c as keyof typeof counts]++;
  }
  return (Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0] as ',' | ';' | '\t');
}

export function parseCsv(text: string, delimiter: ',' | ';' | '\t' | 'auto' = 'auto'): ParsedCsv {
  const sep = delimiter === 'auto' ? detectDelimiter(text) : delimiter;
  const errors: CsvRowError[] = [];
  let records: { record: string[]; info: { lines: number; records: number } }[];
  try {
    records = parse(text, {
      bom: true,
      delimiter: sep,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        // the record number counts the header; the line is where the parser gave up
        if (err) errors.push({ row: Math.max(1, (err as { records?: number }).records ?? 0), line: (err as { lines?: number }).lines ?? 0, message: `the row cannot be read as CSV (${err.code}): ${err.message.replace(/^Invalid[^:]*:\s*/, '').slice(0, 160)}` });
        return undefined;
      },
    }) as never;
  } catch (err) {
    throw badRequest(`The file cannot be read as CSV: ${(err as Error).message.slice(0, 200)}`, 'invalid');
  }
  if (!records.length) throw badRequest('The file has no header line', 'invalid');
  const header = records[0].record.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw badRequest(`The header names column '${h.slice(0, 64)}' twice`, 'invalid');
    seen.add(h);
  }
  const rows: CsvRow[] = [];
  let previousLine = records[0].info.lines;
  records.slice(1).forEach(({ record, info }, i) => {
    const row = i + 1;
    const line = previousLine + 1;
    previousLine = info.lines;
    if (record.length !== header.length) {
      errors.push({ row, line, message: `the row has ${record.length} fields, the header ${header.length} (a ${JSON.stringify(sep)} inside a value that is not quoted?)` });
      return;
    }
    rows.push({ row, line, values: Object.fromEntries(header.map((h, n) => [h, record[n].trim()])) });
  });
  return { header, rows, errors };
}
