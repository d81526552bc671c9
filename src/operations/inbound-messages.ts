// GET [base]/$inbound-messages (server-specific; FHIR has no operation for a server's message
// log): the inbound message log (src/inbound/log.ts) as a Parameters resource.
//   GET [base]/$inbound-messages?ack=AE,AR&kind=hl7v2&_count=50   the newest entries, newest
//        first: when, door, sender, control id, event, ACK code, the issues the sender was
//        answered (an OperationOutcome), the resources written — never the message itself.
//        Needs migfhir/integration.read.
//   GET [base]/$inbound-messages?id=…   one entry with the message as received (content, base64,
//        for an exact replay; text, decoded, to read). Needs migfhir/integration.read and
//        migfhir/migration-data.read: raw HL7 v2 text can carry status-revealing identifiers
//        that no redaction reaches. Like every request, the read is audited.
// Without authorization (development open access) both are open, as every other door. GET only:
// the id read must stand in the request's URL, which the read's AuditEvent records.
import type { OperationOutcome, Parameters, ParametersParameter } from 'fhir/r4.js';
import { forbidden, type AuthContext } from '../auth/authorize.ts';
import { INTEGRATION_SCOPE, MIGRATION_DATA_SCOPE } from '../auth/scopes.ts';
import { badRequest, notFound } from '../fhir/errors.ts';
import { decodeMessage } from '../mapping/hl7v2/charset.ts';
import type { Handler } from '../rest/types.ts';
import type { InboundAck, InboundKind, InboundMessage, InboundSummary } from '../store/message-log.ts';
import { defineOperation } from './types.ts';

const ACKS: InboundAck[] = ['AA', 'AE', 'AR'];
const KINDS: InboundKind[] = ['hl7v2', 'national'];
const DEFAULT_COUNT = 50;
const MAX_COUNT = 500;

function mayList(auth: AuthContext | undefined): void {
  if (auth && !auth.scopes.integration) throw forbidden(`Listing the inbound message log needs the ${INTEGRATION_SCOPE} scope`);
}

/** whether this client may read a message's content */
function mayReadContent(auth: AuthContext | undefined): boolean {
  return !auth || (auth.scopes.integration && auth.scopes.sensitive);
}

function summaryParts(m: InboundSummary): ParametersParameter[] {
  const parts: ParametersParameter[] = [
    { name: 'id', valueId: m.id },
    { name: 'received', valueInstant: m.received },
    { name: 'door', valueCode: m.door },
    { name: 'kind', valueCode: m.kind },
  ];
  if (m.sender) parts.push({ name: 'sender', valueString: m.sender });
  if (m.controlId) parts.push({ name: 'controlId', valueString: m.controlId });
  if (m.event) parts.push({ name: 'event', valueString: m.event });
  parts.push({ name: 'ack', valueCode: m.ack });
  parts.push({ name: 'size', valueInteger: m.size });
  parts.push({ name: 'contentKept', valueBoolean: m.contentKept });
  // OperationOutcome.issue is 1..*: a message answered without issues has no outcome part
  if (m.issues.length) parts.push({ name: 'outcome', resource: { resourceType: 'OperationOutcome', issue: m.issues } as OperationOutcome });
  for (const reference of m.written) parts.push({ name: 'written', valueReference: { reference } });
  return parts;
}

/** The content as text: HL7 v2 decoded per MSH-18 (or the charset it came with), JSON as UTF-8. */
function textOf(m: InboundMessage & { content: Buffer }): string {
  if (m.kind === 'hl7v2') {
    try {
      return decodeMessage(m.content, m.charset).text;
    } catch {
      return m.content.toString('latin1');
    }
  }
  return m.content.toString('utf8');
}

function list(query: Record<string, string[]>): { ack?: InboundAck[]; kind?: InboundKind; count: number } {
  const ack = (query.ack ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const a of ack) if (!ACKS.includes(a as InboundAck)) throw badRequest(`ack: expected AA, AE or AR, got '${a.slice(0, 16)}'`, 'value', ['ack']);
  const kind = query.kind?.[0];
  if (kind !== undefined && !KINDS.includes(kind as InboundKind)) throw badRequest(`kind: expected hl7v2 or national, got '${kind.slice(0, 16)}'`, 'value', ['kind']);
  const countText = query._count?.[0];
  const count = countText === undefined ? DEFAULT_COUNT : Number(countText);
  if (!Number.isInteger(count) || count < 0) throw badRequest(`_count: expected a whole number, got '${String(countText).slice(0, 16)}'`, 'value', ['_count']);
  return { ...(ack.length ? { ack: ack as InboundAck[] } : {}), ...(kind ? { kind: kind as InboundKind } : {}), count: Math.min(count, MAX_COUNT) };
}

const inboundMessages: Handler = async (req, ctx) => {
  mayList(req.auth);
  const log = ctx.inbound;
  const enabled = !!log?.enabled;
  const header: ParametersParameter[] = [
    { name: 'enabled', valueBoolean: enabled },
    ...(log ? [{ name: 'keepDays', valueInteger: log.bounds.days }, { name: 'keepCount', valueInteger: log.bounds.max }] : []),
    { name: 'contentReadable', valueBoolean: enabled && mayReadContent(req.auth) },
  ];
  const id = req.query.id?.[0];
  if (id !== undefined) {
    if (!mayReadContent(req.auth)) {
      throw forbidden(`Reading a message's content needs the ${MIGRATION_DATA_SCOPE} scope as well as ${INTEGRATION_SCOPE}: HL7 v2 text can carry status-revealing identifiers that no redaction reaches`);
    }
    if (!enabled) throw notFound('The inbound message log is off (--message-log-days or --message-log-max 0): no message is kept');
    // the AuditEvent names the message read, and is labelled as the migration data it may hold
    if (req.trail) {
      req.trail.query = true;
      req.trail.sensitiveQuery = true;
    }
    const m = await log!.read(id);
    if (!m) throw notFound(`No message '${id.slice(0, 64)}' in the inbound message log (entries past --message-log-days or --message-log-max are pruned)`);
    const parts = summaryParts(m);
    if (m.content) parts.push({ name: 'content', valueBase64Binary: m.content.toString('base64') }, { name: 'text', valueString: textOf({ ...m, content: m.content }) });
    if (m.charset) parts.push({ name: 'charset', valueString: m.charset });
    const body: Parameters = { resourceType: 'Parameters', parameter: [...header, { name: 'message', part: parts }] };
    return { status: 200, body };
  }
  const found = enabled ? await log!.list(list(req.query)) : [];
  const body: Parameters = { resourceType: 'Parameters', parameter: [...header, ...found.map((m) => ({ name: 'message', part: summaryParts(m) }))] };
  return { status: 200, body };
};

const MESSAGE_PARTS = [
  { name: 'id', use: 'out' as const, min: 1, max: '1', type: 'id' },
  { name: 'received', use: 'out' as const, min: 1, max: '1', type: 'instant' },
  { name: 'door', use: 'out' as const, min: 1, max: '1', type: 'code', documentation: 'http or mllp' },
  { name: 'kind', use: 'out' as const, min: 1, max: '1', type: 'code', documentation: 'hl7v2 or national' },
  { name: 'sender', use: 'out' as const, min: 0, max: '1', type: 'string', documentation: 'HL7 v2: MSH-3^MSH-4; national: the sender the import named' },
  { name: 'controlId', use: 'out' as const, min: 0, max: '1', type: 'string', documentation: 'MSH-10' },
  { name: 'event', use: 'out' as const, min: 0, max: '1', type: 'string', documentation: 'HL7 v2: MSH-9 (e.g. ADT^A01); national: the adapter' },
  { name: 'ack', use: 'out' as const, min: 1, max: '1', type: 'code', documentation: 'HL7 v2: the ACK code (MSA-1); national: AA applied, AE refused' },
  { name: 'size', use: 'out' as const, min: 1, max: '1', type: 'integer', documentation: 'bytes received' },
  { name: 'contentKept', use: 'out' as const, min: 1, max: '1', type: 'boolean', documentation: 'false for a message larger than the log keeps (8 MiB): listed, not replayable from the log' },
  { name: 'outcome', use: 'out' as const, min: 0, max: '1', type: 'OperationOutcome', documentation: 'the errors and warnings the sender was answered' },
  { name: 'written', use: 'out' as const, min: 0, max: '*', type: 'Reference', documentation: 'each resource the message wrote' },
  { name: 'content', use: 'out' as const, min: 0, max: '1', type: 'base64Binary', documentation: 'with id only: the message as received' },
  { name: 'text', use: 'out' as const, min: 0, max: '1', type: 'string', documentation: 'with id only: the message as text' },
  { name: 'charset', use: 'out' as const, min: 0, max: '1', type: 'string', documentation: 'with id only: the HTTP charset parameter it came with' },
];

export const inboundMessagesOperation = defineOperation({
  code: 'inbound-messages',
  id: 'inbound-messages',
  title: 'The inbound message log',
  description: 'The HL7 v2 messages and national imports the server received, accepted or refused, newest first: ACK code, issues and the resources written (needs migfhir/integration.read); with id, one message as received (needs migfhir/migration-data.read as well).',
  levels: ['system'],
  get: true,
  post: false,
  parameters: [
    { name: 'id', use: 'in', min: 0, max: '1', type: 'id', documentation: 'one entry, with its content' },
    { name: 'ack', use: 'in', min: 0, max: '*', type: 'code', documentation: 'only entries with these ACK codes (AA, AE, AR; comma-separated or repeated)' },
    { name: 'kind', use: 'in', min: 0, max: '1', type: 'code', documentation: 'hl7v2 or national' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer', documentation: `the newest entries to return (default ${DEFAULT_COUNT}, at most ${MAX_COUNT})` },
    { name: 'enabled', use: 'out', min: 1, max: '1', type: 'boolean', documentation: 'whether the server keeps the log' },
    { name: 'keepDays', use: 'out', min: 0, max: '1', type: 'integer', documentation: '--message-log-days' },
    { name: 'keepCount', use: 'out', min: 0, max: '1', type: 'integer', documentation: '--message-log-max' },
    { name: 'contentReadable', use: 'out', min: 1, max: '1', type: 'boolean', documentation: 'whether this client may read a message\'s content (and so replay it)' },
    { name: 'message', use: 'out', min: 0, max: '*', documentation: 'one entry', part: MESSAGE_PARTS },
  ],
  handler: inboundMessages,
});
