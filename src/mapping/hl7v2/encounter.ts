// PV1/PV2 → Encounter. The visit number (PV1-19) is the encounter's identity: admit, update and
// discharge messages of one visit update one Encounter. Practitioners and locations are kept as
// logical references (identifier and display): feeds rarely carry enough to identify them.
import type { CodeableConcept, Encounter, EncounterParticipant, Identifier, Reference } from 'fhir/r4.js';
import { comp, type Repetition, type Segment } from './er7.ts';
import type { Hl7Warning } from './errors.ts';
import { ceToCodeableConcept, cxToIdentifier, droppedIfInvalid, dtmToDateTime, localize, tableConcept } from './datatypes.ts';
import { unmapped } from './patient.ts';
import { systemForAuthority } from '../identifiers.ts';
import { ACT_CODE, PATIENT_CLASS, toFhirCode, V2 } from './tables.ts';
import type { AdtEvent } from './header.ts';

const PV1_MAPPED = new Set([1, 2, 3, 4, 7, 8, 9, 10, 14, 17, 19, 36, 44, 45]);
const PV2_MAPPED = new Set([3]);
const PARTICIPANTS: [number, string, string][] = [[7, 'ATND', 'attender'], [8, 'REF', 'referrer'], [9, 'CON', 'consultant'], [17, 'ADM', 'admitter']];

/** Whether the message describes a visit at all (A28/A31 and class N carry no encounter). */
export function hasVisit(event: AdtEvent, pv1: Segment | undefined): pv1 is Segment {
  return !!pv1 && !['A28', 'A31', 'A34', 'A36', 'A40'].includes(event) && pv1.get(2) !== 'N' && pv1.get(2) !== '';
}

/** XCN: 1 id, 2 family, 3 given, 9 assigning authority → a logical reference. */
function practitioner(rep: Repetition, facility: string): Reference | undefined {
  const display = [comp(rep, 6), comp(rep, 3), comp(rep, 2)].filter(Boolean).join(' ');
  const value = comp(rep, 1);
  const system = value ? systemForAuthority({ namespace: comp(rep, 9, 1) || facility, universalId: comp(rep, 9, 2), universalIdType: comp(rep, 9, 3) })?.system : undefined;
  if (!value && !display) return undefined;
  return { ...(value ? { identifier: { system, value } } : {}), ...(display ? { display } : {}), type: 'Practitioner' };
}

/** PL: 1 point of care, 2 room, 3 bed, 4 facility, 9 description. */
function locationDisplay(rep: Repetition | undefined): string | undefined {
  if (!rep) return undefined;
  const parts = [comp(rep, 4), comp(rep, 1), comp(rep, 2) && `room ${comp(rep, 2)}`, comp(rep, 3) && `bed ${comp(rep, 3)}`].filter(Boolean);
  return comp(rep, 9) || parts.join(', ') || undefined;
}

export interface EncounterContext {
  event: AdtEvent;
  facility: string;
  offset?: string;
  /** used as the visit's key when PV1-19 is empty */
  fallbackIdentifier: Identifier;
  patientRef: string;
  warnings: Hl7Warning[];
}

export function pv1ToEncounter(pv1: Segment, pv2: Segment | undefined, ctx: EncounterContext): Encounter {
  const classCode = pv1.get(2);
  const act = toFhirCode(PATIENT_CLASS, classCode);
  const end = droppedIfInvalid(ctx.warnings, () => dtmToDateTime(pv1.get(45), 'PV1-45', ctx.offset));
  const start = droppedIfInvalid(ctx.warnings, () => dtmToDateTime(pv1.get(44), 'PV1-44', ctx.offset));
  const finished = ctx.event === 'A03' || !!end;
  const local = { sender: ctx.facility, warnings: ctx.warnings };
  const e: Encounter = {
    resourceType: 'Encounter',
    status: finished ? 'finished' : classCode === 'P' ? 'planned' : 'in-progress',
    class: act ? { system: ACT_CODE, code: act } : { system: V2('0004'), code: classCode },
    subject: { reference: ctx.patientRef },
  };
  localize(e.class, '0004', 'PV1-2', local);
  let id = cxToIdentifier(pv1.field(19)[0] ?? [], 'PV1-19', ctx.facility, ctx.warnings);
  if (!id) {
    id = ctx.fallbackIdentifier;
    ctx.warnings.push({ location: 'PV1-19', message: 'PV1-19 (visit number) is empty: the encounter is keyed on this message, so later messages cannot update it' });
  }
  if (!id.type) id.type = { coding: [{ system: V2('0203'), code: 'VN' }] };
  e.identifier = [id];
  const type = tableConcept(pv1.field(4)[0], '0007', 'PV1-4', local);
  if (type) e.type = [type];
  const service = tableConcept(pv1.field(10)[0], '0069', 'PV1-10', local);
  if (service) e.serviceType = service;
  const participants: EncounterParticipant[] = [];
  for (const [n, code, display] of PARTICIPANTS) {
    for (const rep of pv1.field(n)) {
      const individual = practitioner(rep, ctx.facility);
      if (individual) participants.push({ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code, display }] }], individual });
    }
  }
  if (participants.length) e.participant = participants;
  if (start || end) e.period = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  const where = locationDisplay(pv1.field(3)[0]);
  if (where) e.location = [{ location: { display: where }, status: finished ? 'completed' : 'active' }];
  const admitSource = tableConcept(pv1.field(14)[0], '0023', 'PV1-14', local);
  const discharge = tableConcept(pv1.field(36)[0], '0112', 'PV1-36', local);
  if (admitSource || discharge) e.hospitalization = { ...(admitSource ? { admitSource } : {}), ...(discharge ? { dischargeDisposition: discharge } : {}) };
  const reason: CodeableConcept | undefined = pv2 ? ceToCodeableConcept(pv2.field(3)[0]) : undefined;
  if (reason) e.reasonCode = [reason];
  unmapped(pv1, PV1_MAPPED, ctx.warnings);
  if (pv2) unmapped(pv2, PV2_MAPPED, ctx.warnings);
  return e;
}
