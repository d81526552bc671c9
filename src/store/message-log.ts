// The inbound message log's storage contract (src/inbound/log.ts keeps the log): one entry per
// HL7 v2 message or national import the server received, accepted or refused, with the message
// as received. It lives beside the FHIR resources, never among them (an SQLite table in a file
// of its own, a MongoDB collection), so no search, $everything, $export or history reaches it,
// and a refused message still stores no resource.
import type { OperationOutcomeIssue } from 'fhir/r4.js';

export type InboundDoor = 'http' | 'mllp';
export type InboundKind = 'hl7v2' | 'national';
export type InboundAck = 'AA' | 'AE' | 'AR';

/** What the log lists of a message: everything but its content. */
export interface InboundSummary {
  id: string;
  /** ISO instant with milliseconds */
  received: string;
  door: InboundDoor;
  kind: InboundKind;
  /** HL7 v2: MSH-3^MSH-4 (application, facility); national: the sender the import named */
  sender?: string;
  /** MSH-10 */
  controlId?: string;
  /** HL7 v2: MSH-9 (e.g. ADT^A01); national: the adapter (e.g. de) */
  event?: string;
  /** HL7 v2: the ACK's MSA-1; national: AA applied, AE refused */
  ack: InboundAck;
  /** the issues of the answer the sender got (errors, warnings; information for a duplicate) */
  issues: OperationOutcomeIssue[];
  /** Type/id of each resource written (none for a refused or duplicate message) */
  written: string[];
  /** bytes received */
  size: number;
  /** whether the content was kept (not when larger than the log keeps: src/inbound/log.ts) */
  contentKept: boolean;
}

/** A message with its content as received. */
export interface InboundMessage extends InboundSummary {
  /** the bytes received (HL7 v2: in the character set MSH-18 or the HTTP charset names;
   * national: the JSON body, UTF-8) */
  content?: Buffer;
  /** the charset parameter the sender gave over HTTP, when it gave one (a replay sends it again) */
  charset?: string;
}

/** What prune() takes: entries received before `before` go, and all but the newest `keep`. */
export interface PruneBounds {
  before: string;
  keep: number;
}

export interface MessageLogQuery {
  /** the newest `count` entries, newest first */
  count: number;
  ack?: InboundAck[];
  kind?: InboundKind;
}

export interface MessageLogStore {
  /** calls run in the order they are made: a read made after an append includes it even before
   * the append's promise settled (so a caller may answer without waiting for the log) */
  readonly ordered?: boolean;
  /** Stores the entries; with `bounds`, then prunes as prune() does, in the same call (one
   * round trip, one commit). */
  append(entries: InboundMessage[], bounds?: PruneBounds): Promise<void>;
  list(query: MessageLogQuery): Promise<InboundSummary[]>;
  read(id: string): Promise<InboundMessage | undefined>;
  /** Deletes the entries received before `before` and all but the newest `keep`; returns how many went. */
  prune(before: string, keep: number): Promise<number>;
  close(): Promise<void>;
}
