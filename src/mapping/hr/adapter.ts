// Croatia: CEZIH (FHIR R4 + IHE profiles). Patients are identified by MBO (health insurance
// number) and OIB; foreigners without an MBO are registered through an IHE PMIR patient feed
// (ITI-93) by their passport (putovnica) or European Health Insurance Card (europska-kartica)
// number. Inbound takes a PMIR message (Bundle type message: MessageHeader, then a history
// Bundle of Patients) or any Bundle or Patient; outbound writes a PMIR message. A patient with
// neither MBO, passport nor EHIC number cannot be registered in CEZIH: refused, naming the rule.
import type { Bundle, BundleEntry, Identifier, MessageHeader, Patient, Resource } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { defaultUnwrap, derivedUrl, nationalAdapter, type Unwrapped } from '../national/bundle.ts';
import { systemOf } from '../national/patient.ts';
import type { NationalTable } from '../national/table.ts';
import profile from './profile.json' with { type: 'json' };
import { checkDataFile } from '../../schemas/check.ts';

export const PMIR_EVENT = 'urn:ihe:iti:pmir:2019:patient-feed';
const PASSPORT_PREFIX = 'https://migfhir.org/fhir/sid/passport/';

/** The country's profile URLs and identifier systems: data, with their published source. */
export const TABLE = checkDataFile<NationalTable>(new URL('./profile.json', import.meta.url), profile, 'national-profile');

/** the identifiers CEZIH registers a person by: MBO, or a foreigner's passport or EHIC number */
const REGISTRABLE = ['hr-mbo', 'hr-passport', 'hr-ehic'].map(systemOf);
const CEZIH_PASSPORT = systemOf('hr-passport');

function unwrap(body: Resource): Unwrapped {
  const b = body as Bundle;
  if (body.resourceType !== 'Bundle' || b.type !== 'message') return defaultUnwrap(body);
  const header = b.entry?.[0]?.resource as MessageHeader | undefined;
  if (header?.resourceType !== 'MessageHeader') throw new FhirError(422, { code: 'structure', diagnostics: 'Bundle.entry[0]: a message Bundle begins with its MessageHeader', expression: ['Bundle.entry[0]'] });
  if (header.eventUri !== PMIR_EVENT) throw new FhirError(422, { code: 'not-supported', diagnostics: `MessageHeader.eventUri: the hr adapter takes the IHE PMIR patient feed (${PMIR_EVENT})`, expression: ['Bundle.entry[0].resource.eventUri'] });
  const inner = defaultUnwrap({ ...b, type: 'collection', entry: b.entry!.slice(1) } as Bundle);
  const entries = inner.entries.map((e) => ({ ...e, path: e.path.replace(/^Bundle\.entry\[(\d+)\]/, (_m, i) => `Bundle.entry[${Number(i) + 1}]`) }));
  const messageId: Identifier | undefined = b.identifier?.value ? b.identifier : header.id ? { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${header.id}` } : undefined;
  return { entries, sender: header.source?.name ?? header.source?.endpoint, ...(messageId ? { messageId } : {}) };
}

function wrap(resources: Resource[], options: { now: string; baseUrl?: string }): Bundle {
  const seed = `${options.now}|${resources.map((r) => `${r.resourceType}/${r.id}`).join(',')}`;
  const historyUrl = derivedUrl(seed, 0);
  const history: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    entry: resources.map((resource, i) => ({
      fullUrl: options.baseUrl && resource.id ? `${options.baseUrl}/${resource.resourceType}/${resource.id}` : derivedUrl(seed, i + 2),
      resource,
      request: resource.id ? { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } : { method: 'POST', url: resource.resourceType },
      response: { status: '200' },
    })) as BundleEntry[],
  };
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: derivedUrl(seed, 1).slice(9),
    eventUri: PMIR_EVENT,
    source: { name: 'migfhir', endpoint: options.baseUrl ?? 'urn:migfhir' },
    focus: [{ reference: historyUrl }],
  };
  return {
    resourceType: 'Bundle',
    type: 'message',
    timestamp: options.now,
    entry: [{ fullUrl: `urn:uuid:${header.id}`, resource: header }, { fullUrl: historyUrl, resource: history }],
  };
}

export const croatia = nationalAdapter({
  table: TABLE,
  unwrap,
  wrap,
  patientFromFhir(_stored: Patient, out: Patient) {
    const ids = out.identifier ?? [];
    const registrable = (list: Identifier[]) => list.some((i) => i.system && i.value && REGISTRABLE.includes(i.system));
    if (!registrable(ids)) {
      // a passport known to migfhir by its issuing state is the one CEZIH registers foreigners by
      out.identifier = ids.map((i) => (i.system?.startsWith(PASSPORT_PREFIX) ? { ...i, system: CEZIH_PASSPORT, assigner: { display: i.system.slice(PASSPORT_PREFIX.length) } } : i));
    }
    if (!registrable(out.identifier ?? [])) {
      throw new FhirError(422, { code: 'business-rule', diagnostics: 'Patient.identifier: CEZIH registers a person without MBO by passport or European Health Insurance Card number; the patient has none', expression: ['Patient.identifier'] });
    }
  },
});
