// The HL7 v2 ADT adapter as the registry lists it.
import type { Bundle, Resource } from 'fhir/r4.js';
import type { Hl7v2Input } from './header.ts';
import { ADAPTER_ID, ADAPTER_VERSION, mapMessage } from './to-fhir.ts';
import { fromFhir, type OutboundOptions } from './from-fhir.ts';
import type { Adapter } from '../registry.ts';

export const hl7v2Adt = {
  id: ADAPTER_ID,
  version: ADAPTER_VERSION,
  title: 'HL7 v2.5 ADT (A01, A03, A04, A08, A28, A31, A34, A36, A40) ↔ Patient, Encounter, Provenance',
  country: 'hospital',
  system: 'HL7 v2 ADT interfaces (MLLP, $hl7v2-ingest)',
  formats: ['x-application/hl7-v2+er7'],
  directions: ['inbound', 'outbound'],
  operations: ['$hl7v2-ingest', 'Patient/[id]/$hl7v2-export'],
  toFhir: (input: Hl7v2Input): Bundle => mapMessage(input).bundle,
  fromFhir: (resources: Resource[], options: OutboundOptions): string => fromFhir(resources, options),
} satisfies Adapter<Hl7v2Input, string, OutboundOptions>;
