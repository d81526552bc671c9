// The NGO clinic-register adapter as the registry lists it. toFhir maps a whole file: a
// collection Bundle holding one transaction Bundle per consultation row, and one
// OperationOutcome listing the rows that could not be mapped (never dropped silently).
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { operationOutcome } from '../../fhir/errors.ts';
import { readMapping, type ColumnMapping } from './mapping.ts';
import { decode, parseCsv, type CsvRowError } from './parse.ts';
import { CSV_ADAPTER_ID, CSV_ADAPTER_VERSION, mapRow, type MappedRow } from './to-fhir.ts';
import type { Adapter } from '../registry.ts';

export interface CsvInput {
  csv: Buffer | string;
  mapping: ColumnMapping | string;
  received?: string;
}

export interface MappedFile {
  rows: MappedRow[];
  errors: CsvRowError[];
  total: number;
}

export function mapFile(input: CsvInput): MappedFile {
  const mapping = readMapping(input.mapping);
  const parsed = parseCsv(decode(input.csv), mapping.delimiter ?? 'auto');
  const received = input.received ?? new Date().toISOString();
  const errors = [...parsed.errors];
  const missing = [...Object.values(mapping.columns), ...mapping.identifiers.map((i) => i.column)].filter((c) => c && !parsed.header.includes(c));
  if (missing.length) errors.push({ row: 0, line: 1, message: `the header lacks the mapped column(s) ${missing.map((c) => `'${c}'`).join(', ')}` });
  const rows: MappedRow[] = [];
  for (const row of parsed.rows) {
    const r = mapRow(mapping, row, received);
    if (Array.isArray(r)) errors.push(...r);
    else rows.push(r);
  }
  errors.sort((a, b) => a.row - b.row);
  return { rows, errors, total: parsed.rows.length + new Set(parsed.errors.map((e) => e.row)).size };
}

export function describeError(e: CsvRowError): string {
  return `${e.row ? `row ${e.row} (line ${e.line})` : 'header'}${e.column ? `, column '${e.column}'` : ''}: ${e.message}`;
}

export const ngoCsv = {
  id: CSV_ADAPTER_ID,
  version: CSV_ADAPTER_VERSION,
  title: 'NGO clinic registers (CSV / spreadsheet export) → Patient, Encounter, ServiceRequest',
  country: 'NGO',
  system: 'clinic registers of NGOs (one row per consultation), with a column-mapping file',
  formats: ['text/csv'],
  directions: ['inbound'],
  operations: ['$import-csv', 'migfhir import-csv'],
  toFhir(input: CsvInput): Bundle {
    const file = mapFile(input);
    const entry: BundleEntry[] = file.rows.map((r) => ({ resource: r.bundle }));
    if (file.errors.length) entry.push({ resource: operationOutcome(file.errors.map((e) => ({ severity: 'error', code: 'value', diagnostics: describeError(e) }))) });
    return { resourceType: 'Bundle', type: 'collection', entry };
  },
} satisfies Adapter<CsvInput>;
