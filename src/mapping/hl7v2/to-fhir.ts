// HL7 v2 ADT → a FHIR transaction Bundle: conditional updates keyed on identifiers (PID-3 for
// the patient, PV1-19 for the visit), so a message sent twice never makes a second patient or
// encounter, plus a Provenance naming the sender, the adapter and the message control id
// (created once per message: its meta.source is the message's id). Pure: same message, same
// Bundle (fullUrls are derived from the message id).
import { createHash } from 'node:crypto';
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
  A28: 'add person information', A31: 'update person information', A40: 'merge patient - patient identifier list',
};

export interface MappedMessage {
  bundle: Bundle;
  header: Header;
  warnings: Hl7Warning[];
  /** Provenance's meta.source: the message's id as the sender knows it */
  source: string;
}

/** urn:uuid derived from the message id, so mapping is deterministic. */
function fullUrl(source: string, n: number): string {
  const h = createHash('sha1').update(`${source}#${n}`).digest('hex');
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
    return { ...assemble(message, header, warnings, input.received ?? new Date().toISOString()), header, warnings };
  } catch (err) {
    if (err instanceof Hl7Error) (err as Hl7Error & { header?: Header }).header = header;
    throw err;
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
    const { patient, removed } = pidToPatient(pid, group.filter((s) => s.name === 'NK1'), h.sendingFacility, offset, warnings);
    applyZSegments(h, group.filter((s) => s.name[0] === 'Z'), patient, warnings);
    if (!patient.identifier?.length) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, 'the patient has no identifier (PID-3)', 'PID-3');
    if (event === 'A40') {
      const mrg = one('MRG');
      if (!mrg) throw new Hl7Error('AE', HL7_ERROR.requiredMissing, 'ADT^A40 needs an MRG segment after each PID', 'MRG');
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
