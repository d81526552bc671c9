// Patient → ADT^A28 (add person information) or ADT^A31 (update person information), v2.5,
// UTF-8 (MSH-18 "UNICODE UTF-8"): the person-level messages a hospital's master patient index
// takes. Pure: the control id and time are inputs.
import type { Patient, Resource } from 'fhir/r4.js';
import { DEFAULT_DELIMITERS, encodeSegment, type FieldValue } from './er7.ts';
import { toDtm } from './datatypes.ts';
import { contactsToNk1, patientToPid } from './patient.ts';

export interface OutboundOptions {
  event: 'A28' | 'A31';
  /** MSH-10 */
  controlId: string;
  /** MSH-7 / EVN-2, a FHIR instant */
  now: string;
  sendingApplication?: string;
  sendingFacility?: string;
  receivingApplication?: string;
  receivingFacility?: string;
  /** MSH-11: P production (default), T training, D debugging */
  processingId?: 'P' | 'T' | 'D';
}

export const SEGMENT_SEPARATOR = '\r';

/** The message for the first Patient among `resources`. */
export function fromFhir(resources: Resource[], o: OutboundOptions): string {
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) throw new Error('fromFhir needs a Patient');
  const d = DEFAULT_DELIMITERS;
  const now = toDtm(o.now);
  const msh: FieldValue[] = [];
  // MSH-1 and MSH-2 are written literally, not escaped
  msh[3] = o.sendingApplication ?? 'migfhir';
  msh[4] = o.sendingFacility;
  msh[5] = o.receivingApplication;
  msh[6] = o.receivingFacility;
  msh[7] = now;
  msh[9] = ['ADT', o.event, 'ADT_A05'];
  msh[10] = o.controlId;
  msh[11] = o.processingId ?? 'P';
  msh[12] = '2.5';
  msh[15] = 'AL';
  msh[16] = 'NE';
  msh[18] = 'UNICODE UTF-8';
  const mshText = `MSH${d.field}${d.component}${d.repetition}${d.escape}${d.subcomponent}${d.field}${encodeSegment('X', msh.slice(3)).slice(2)}`;
  const segments = [
    mshText,
    encodeSegment('EVN', [o.event, now]),
    encodeSegment('PID', patientToPid(patient).slice(1)),
    ...contactsToNk1(patient).map((f) => encodeSegment('NK1', f.slice(1))),
    encodeSegment('PV1', ['1', 'N']),
  ];
  return segments.join(SEGMENT_SEPARATOR) + SEGMENT_SEPARATOR;
}
