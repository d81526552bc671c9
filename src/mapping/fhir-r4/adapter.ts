// Plain FHIR R4 ↔ FHIR R4: the identity mapping, for endpoints that speak FHIR without a
// national profile to translate (`migfhir sync`). Resources pass unchanged; what it adds is the
// keyed transaction of records.ts. An adapter for a national FHIR profile maps each resource
// first and then hands its records to the same recordTransaction.
import type { Bundle, Resource } from 'fhir/r4.js';
import { recordTransaction, type RecordInput } from './records.ts';
import type { Adapter } from '../registry.ts';

export interface FhirRecordInput {
  /** the remote record: each resource with its absolute URL there */
  records: RecordInput[];
  /** the local server's base URL, when known */
  receivingBase?: string;
}

export interface FhirRecordOptions {
  /** the sending (local) server's base URL: resources without an origin are named by it */
  base: string;
  /** the receiving server's base URL */
  receivingBase?: string;
}

export const fhirR4 = {
  id: 'fhir-r4',
  version: '1.0.0',
  title: 'FHIR R4 ↔ FHIR R4 (identity): a patient record as a transaction of conditional updates',
  country: 'any',
  system: 'FHIR R4 servers (migfhir sync)',
  formats: ['application/fhir+json'],
  directions: ['inbound', 'outbound'],
  operations: ['migfhir sync pull', 'migfhir sync push'],
  toFhir: (input: FhirRecordInput): Bundle => recordTransaction(input.records, { merge: true, receivingBase: input.receivingBase }),
  fromFhir: (resources: Resource[], options: FhirRecordOptions): Bundle =>
    recordTransaction(resources.map((resource) => ({ url: `${options.base}/${resource.resourceType}/${resource.id}`, resource })), { receivingBase: options.receivingBase }),
} satisfies Adapter<FhirRecordInput, Bundle, FhirRecordOptions>;
