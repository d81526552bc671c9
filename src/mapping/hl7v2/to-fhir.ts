// HL7 v2 ADT → a FHIR transaction Bundle: conditional updates keyed on identifiers (PID-3 for
// the patient, PV1-19 for the visit, NK1-33 or the NK1 set id within the patient for a
// RelatedPerson), so a message sent twice never makes a second patient or
// encounter, plus a Provenance naming the sender, the adapter and the message control id
// (created once per message: its meta.source is the message's id). Pure: same message, same
// Bundle (fullUrls are derived from the message id).
import { hash } from 'node:crypto';
import type { Bundle, BundleEntry, Extension, Identifier, Patient, Provenance, ProvenanceAgent } from 'fhir/r4.js';
import type { Message, Segment } from './er7.ts';
import { Hl7Error, HL7_ERROR, type Hl7Warning } from './errors.ts';
import { dtmOffset, dtmToDateTime, cxToIdentifier } from './datatypes.ts';
import { messageSource, messageSystem, readMessage, type AdtEvent, type Header, type Hl7v2Input } from './header.ts';
import { pidToPatient, unmapped } from './patient.ts';
import { hasVisit, pv1ToEncounter } from './encounter.ts';
import { V2 } from './tables.ts';
import { applyZSegments, isMappedZ } from './z-segments.ts';
import { REMOVE, WRITE_MODE } from '../conventions.ts';

export const ADAPTER_ID = 'hl7v2-adt';
export const ADAPTER_VERSION = '1.0.0';

const MAPPED_SEGMENTS = new Set(['MSH', 'EVN', 'PID', 'NK1', 'PV1', 'PV2', 'MRG']);
const EVN_MAPPED = new Set([1, 2, 4, 5, 6]);
const MRG_MAPPED = new Set([1, 4]);
const EVENT_NAMES: Record<AdtEvent, string> = {
  A01: 'admit/visit notification', A03: 'discharge/end visit', A04: 'register a patient', A08: 'update patient information',
  A28: 'add person information', A31: 'update person information', A34: 'merge patient information - patient ID only',
  A36: 'merge patient information - patient ID and account number', A40: 'merge patient - patient identifier list',
};
/** Merges: A40 (v2.5) repeats PID [PD1] MRG per merged patient; A34 and A36 (kept in v2.5 for
 * older senders, structure ADT_A30) carry one pair. Account numbers (MRG-3, A36's other half)
 * are not mapped: reported as warnings. */
const MERGES = new Set<AdtEvent>(['A34', 'A36', 'A40']);

export interface MappedMessage {
  bundle: Bundle;
  header: Header;
  warnings: Hl7Warning[];
  /** Provenance's meta.source: the message's id as the sender knows it */
  source: string;
}

/** urn:uuid derived from the message id, so mapping is deterministic (crypto.hash: one call,
 * no Hash object, a fraction of createHash's cost for a string this short). */
function fullUrl(source: string, n: number): string {
  const h = hash('sha1', `${source}#${n}`, 'hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** FHIR search escaping (\ , | $) then URL encoding, for conditional URLs. */
function token(id: Identifier): string {
  const esc = (s: string) => s.replace(/[\\,|$]/g, (c) => `\\${c}`);
  return encodeURIComponent(`${esc(id.system ?? '')}|${esc(id.value ?? '')}`);
}
export function identifierQuery(type: string, ids: Identifier[]): string {
  return `${type}?identifier=${ids.map(token).join(',')}`;
}

/** Segments after MSH, grouped: A40 repeats PID [PD1] MRG [PV1] per merged patient. */
function groups(segments: Segment[]): Segment[][] {
  const out: Segment[][] = [];
  for (const s of segments) {
    if (s.name === 'PID' || !out.length) out.push([]);
    out[out.length - 1].push(s);
  }
  return out;
}

function patientEntry(url: string, patient: Patient, removed: string[], mode: 'merge' | 'merged-record'): BundleEntry {
  const extension: Extension[] = [{ url: WRITE_MODE, valueCode: mode }, ...removed.map((r) => ({ url: REMOVE, valueString: r }))];
  return { fullUrl: url, extension, resource: patient, request: { method: 'PUT', url: identifierQuery('Patient', patient.identifier!) } } as BundleEntry;
}

export function mapMessage(input: Hl7v2Input): MappedMessage {
  const { message, header } = readMessage(input);
  const warnings: Hl7Warning[] = [];
  try {
    const mapped = assemble(message, header, warnings, input.received ?? new Date().toISOString());
    refuseIfCut(message, warnings);
    return { ...mapped, header, warnings };
  } catch (err) {
    if (err instanceof Hl7Error) (err as Hl7Error & { header?: Header }).header = header;
    throw err;
  }
}

/**
 * A wrong value in the very last field of a message without a final segment terminator is a
 * message cut in transit, not a sender's mistake: refused whole (AR), where the same value
 * inside a complete message only costs that field. (A message may lack its final CR — shell
 * command substitution strips it — so a missing terminator alone refuses nothing.)
 */
function refuseIfCut(message: Message, warnings: Hl7Warning[]): void {
  if (!message.unterminated) return;
  const last = message.segments.at(-1)!;
  const location = `${last.name}-${last.size}`;
  if (warnings.some((w) => w.code === HL7_ERROR.dataType && w.location === location)) {
    throw new Hl7Error('AR', HL7_ERROR.segmentSequence, 'the message ends inside this field without a segment terminator: it looks cut off, and nothing was stored', location);
  }
}

function assemble(message: Message, h: Header, warnings: Hl7Warning[], received: string): { bundle: Bundle; source: string } {
  const event = h.event as AdtEvent;
  const source = messageSource(h);
  const offset = dtmOffset(h.datetime);
  const evn = message.segments.find((s) => s.name === 'EVN');
  for (const s of message.segments) {
    if (!MAPPED_SEGMENTS.has(s.name) && !isMappedZ(h, s.name)) warnings.push({ location: s.name, message: `segment ${s.name} is not mapped and was not stored` });
  }
  if (evn) unmapped(evn, EVN_MAPPED, warnings);
  const body = groups(message.segments.slice(1).filter((s) => s.name !== 'EVN')).filter((g) => g[0].name === 'PID');
  if (!body.length) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, `an ADT^${event} message needs a PID segment`, 'PID');
  if (event !== 'A40' && body.length > 1) throw new Hl7Error('AE', HL7_ERROR.segmentSequence, `an ADT^${event} message has one PID segment`, 'PID');
  const entries: BundleEntry[] = [];
  const targets: string[] = [];
  let n = 0;
  for (const group of body) {
    const [pid] = group;
    const one = (name: string) => group.find((s) => s.name === name);
    const patientUrl = fullUrl(source, n++);
    const { patient, removed, relatedPersons } = pidToPatient(pid, group.filter((s) => s.name === 'NK1'), h.sendingFacility, offset, warnings);
    applyZSegments(h, group.filter((s) => s.name[0] === 'Z'), patient, warnings);
    if (!patient.identifier?.length) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, 'the patient has no identifier (PID-3)', 'PID-3');
    if (MERGES.has(event)) {
      const mrg = one('MRG');
      if (!mrg) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, `ADT^${event} needs an MRG segment after each PID`, 'MRG');
      unmapped(mrg, MRG_MAPPED, warnings);
      const prior: Identifier[] = [];
      for (const f of [1, 4]) {
        for (const rep of mrg.field(f)) {
          const id = cxToIdentifier(rep, `MRG-${f}`, h.sendingFacility, warnings);
          if (id && !prior.some((p) => p.system === id.system && p.value === id.value)) prior.push(id);
        }
      }
      if (!prior.length) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, 'the prior patient identifier is required', 'MRG-1');
      const priorUrl = fullUrl(source, n++);
      patient.link = [{ other: { reference: priorUrl }, type: 'replaces' }];
      const priorPatient: Patient = { resourceType: 'Patient', identifier: prior, active: false, link: [{ other: { reference: patientUrl }, type: 'replaced-by' }] };
      entries.push(patientEntry(patientUrl, patient, removed, 'merge'), patientEntry(priorUrl, priorPatient, [], 'merged-record'));
      targets.push(patientUrl, priorUrl);
      continue;
    }
    entries.push(patientEntry(patientUrl, patient, removed, 'merge'));
    targets.push(patientUrl);
    for (const { resource, criteria } of relatedPersons) {
      const url = fullUrl(source, n++);
      resource.patient = { reference: patientUrl };
      // a set-id key identifies a contact only within the patient's record
      const query = identifierQuery('RelatedPerson', criteria.identifiers) + (criteria.chained ? `&patient.identifier=${patient.identifier.map(token).join(',')}` : '');
      entries.push({ fullUrl: url, extension: [{ url: WRITE_MODE, valueCode: 'merge' }], resource, request: { method: 'PUT', url: query } } as BundleEntry);
      targets.push(url);
    }
    const pv1 = one('PV1');
    if (hasVisit(event, pv1)) {
      const url = fullUrl(source, n++);
      const encounter = pv1ToEncounter(pv1, one('PV2'), {
        event, facility: h.sendingFacility, offset, patientRef: patientUrl, warnings,
        fallbackIdentifier: { system: messageSystem(h), value: h.controlId },
      });
      entries.push({ fullUrl: url, extension: [{ url: WRITE_MODE, valueCode: 'merge' }], resource: encounter, request: { method: 'PUT', url: identifierQuery('Encounter', encounter.identifier!) } } as BundleEntry);
      targets.push(url);
    }
  }
  const provenance = provenanceOf(h, evn, event, targets, received, offset, source);
  entries.push({ fullUrl: fullUrl(source, n++), resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist: `_source=${encodeURIComponent(source)}` } });
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, source };
}

function provenanceOf(h: Header, evn: Segment | undefined, event: AdtEvent, targets: string[], received: string, offset: string | undefined, source: string): Provenance {
  const occurred = dtmToDateTime(evn?.get(6) || evn?.get(2) || h.datetime, evn?.get(6) ? 'EVN-6' : evn?.get(2) ? 'EVN-2' : 'MSH-7', offset);
  const sender = [h.sendingApplication, h.sendingFacility].filter(Boolean).join(' at ') || 'unnamed HL7 v2 sender';
  const agent: ProvenanceAgent[] = [
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] }, who: { identifier: { system: 'https://migfhir.org/fhir/sid/hl7v2-sender', value: `${h.sendingFacility}/${h.sendingApplication}` }, display: sender } },
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler' }] }, who: { identifier: { system: 'https://migfhir.org/fhir/sid/adapter', value: ADAPTER_ID }, display: `migfhir adapter ${ADAPTER_ID} ${ADAPTER_VERSION}` } },
  ];
  const operator = evn?.field(5)[0];
  if (operator && (operator[0]?.[0] || operator[1]?.[0])) {
    agent.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'enterer' }] }, who: { display: [operator[2]?.[0], operator[1]?.[0]].filter(Boolean).join(' ') || operator[0][0] } });
  }
  const reason = evn?.get(4);
  return {
    resourceType: 'Provenance',
    meta: { source },
    target: targets.map((reference) => ({ reference })),
    ...(occurred ? { occurredDateTime: occurred } : {}),
    recorded: received,
    ...(reason ? { reason: [{ coding: [{ system: V2('0062'), code: reason }] }] } : {}),
    activity: { coding: [{ system: V2('0003'), code: event, display: EVENT_NAMES[event] }] },
    agent,
    entity: [{ role: 'source', what: { identifier: { system: messageSystem(h), value: h.controlId }, display: `HL7 v${h.version} ${h.messageType}^${event} message` } }],
  };
}
