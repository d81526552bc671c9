// Errors of HL7 v2 processing, carrying what both transports need: the acknowledgment code
// (AR: the message itself cannot be taken — bad header, unsupported type, version or charset;
// AE: it was read but its content cannot be applied), the HL7 error code (table 0357) and the
// location (segment-field) for the ERR segment and the OperationOutcome's expression.
import { FhirError, type IssueCode } from '../../fhir/errors.ts';

export type AckCode = 'AA' | 'AE' | 'AR';

/** Table 0357 codes used here. */
export const HL7_ERROR = {
  segmentSequence: '100',
  requiredMissing: '101',
  dataType: '102',
  tableValue: '103',
  unsupportedMessageType: '200',
  unsupportedEvent: '201',
  unsupportedProcessingId: '202',
  unsupportedVersion: '203',
  unknownKey: '204',
  duplicateKey: '205',
  internal: '207',
} as const;

export class Hl7Error extends Error {
  readonly ack: Exclude<AckCode, 'AA'>;
  readonly code: string;
  /** e.g. 'PID-7' or 'MSH-9' */
  readonly location?: string;

  constructor(ack: Exclude<AckCode, 'AA'>, code: string, message: string, location?: string) {
    super(location ? `${location}: ${message}` : message);
    this.name = 'Hl7Error';
    this.ack = ack;
    this.code = code;
    this.location = location;
  }

  /** The same error as the FHIR API reports it. */
  toFhir(): FhirError {
    const structural = this.ack === 'AR' || this.code === HL7_ERROR.segmentSequence;
    const code: IssueCode = this.code === HL7_ERROR.requiredMissing ? 'required' : this.code.startsWith('2') && this.code !== HL7_ERROR.unknownKey ? 'not-supported' : structural ? 'structure' : this.code === HL7_ERROR.unknownKey ? 'not-found' : 'value';
    return new FhirError(structural ? 400 : 422, { code, diagnostics: this.message, ...(this.location ? { expression: [this.location] } : {}) });
  }
}

/** A field that was sent but is not mapped: reported, never dropped silently. */
export interface Hl7Warning {
  location: string;
  message: string;
  /** table 0357 code for ERR-3; 0 (message accepted) when absent */
  code?: string;
}
