// The adapters that map national formats to and from FHIR. Each adapter lives in its own
// folder under src/mapping and is a pair of pure functions plus declarative tables; this
// registry is what `migfhir adapters` prints and what /metadata advertises.
import type { Bundle, Resource } from 'fhir/r4.js';
import { hl7v2Adt } from './hl7v2/adapter.ts';
import { fhirR4 } from './fhir-r4/adapter.ts';
import { germany } from './de/adapter.ts';
import { italy } from './it/adapter.ts';
import { sweden } from './se/adapter.ts';
import { poland } from './pl/adapter.ts';
import { croatia } from './hr/adapter.ts';
import { greece } from './gr/adapter.ts';
import { ngoCsv } from './csv/adapter.ts';

export type Direction = 'inbound' | 'outbound';

export interface Adapter<In = unknown, Out = unknown, Options = unknown> {
  /** stable id, recorded in every Provenance the adapter writes */
  id: string;
  version: string;
  title: string;
  /** ISO 3166-1 alpha-2 country, or a kind of system ("hospital") when it is not national */
  country: string;
  system: string;
  formats: string[];
  directions: Direction[];
  /** the server operations through which it is reached */
  operations: string[];
  /** national → FHIR: a transaction Bundle of conditional writes keyed on identifiers */
  toFhir?: (input: In) => Bundle;
  /** FHIR → national */
  fromFhir?: (resources: Resource[], options: Options) => Out;
}

/** the national FHIR profile adapters, reached through $import-national / $export-national */
export const NATIONAL_ADAPTERS = [germany, italy, sweden, poland, croatia, greece];

export const ADAPTERS: readonly Adapter[] = [hl7v2Adt as Adapter, fhirR4 as Adapter, ...(NATIONAL_ADAPTERS as Adapter[]), ngoCsv as Adapter];

export function findAdapter(id: string): Adapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}

/** One line per adapter: id, country or system, formats, directions. */
export function describeAdapters(): string[] {
  const rows = ADAPTERS.map((a) => [a.id, `${a.country} ${a.system}`, a.formats.join(','), a.directions.join(',')]);
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(c.length, w[i] ?? 0)), [] as number[]);
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  '));
}
