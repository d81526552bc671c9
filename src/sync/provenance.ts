// The Provenance a sync writes with the record it copies: who sent it (the endpoint), which
// adapter mapped it, what it was (the patient's record at the sender), when. Its meta.source is
// derived from the sender and the record's content, so applying the same content again is
// recognised (src/mapping/apply.ts: nothing is written twice) while a changed record is applied.
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, Provenance } from 'fhir/r4.js';
import { urnFor } from '../mapping/fhir-r4/records.ts';
import type { Adapter } from '../mapping/registry.ts';

const PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
export const ENDPOINT_SYSTEM = 'https://migfhir.org/fhir/sid/sync-endpoint';
export const ADAPTER_SYSTEM = 'https://migfhir.org/fhir/sid/adapter';

export interface CopyDescription {
  direction: 'pull' | 'push';
  /** the sending server: endpoint id (pull) or this installation's base URL (push) */
  sender: { id: string; display: string };
  /** the patient's absolute URL at the sender */
  patientUrl: string;
  adapter: Adapter;
  recorded: string;
}

/** urn:uuid naming this copy: same sender, patient and content → same urn. */
export function copySource(bundle: Bundle, d: Pick<CopyDescription, 'direction' | 'patientUrl'>): string {
  const content = createHash('sha256').update(JSON.stringify(bundle.entry ?? [])).digest('hex');
  return urnFor(`migfhir-sync ${d.direction} ${d.patientUrl} ${content}`);
}

/** Adds the Provenance entry (created once per source) to a record's transaction Bundle. */
export function withProvenance(bundle: Bundle, d: CopyDescription): { bundle: Bundle; source: string } {
  const source = copySource(bundle, d);
  const targets = (bundle.entry ?? []).map((e) => e.fullUrl).filter((u): u is string => Boolean(u));
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { source },
    target: targets.map((reference) => ({ reference })),
    recorded: d.recorded,
    activity: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }],
      text: d.direction === 'pull' ? `copied from ${d.sender.id} by migfhir sync pull` : 'sent by migfhir sync push',
    },
    agent: [
      { type: { coding: [{ system: PARTICIPANT, code: 'author' }] }, who: { identifier: { system: ENDPOINT_SYSTEM, value: d.sender.id }, display: d.sender.display } },
      { type: { coding: [{ system: PARTICIPANT, code: 'assembler' }] }, who: { identifier: { system: ADAPTER_SYSTEM, value: d.adapter.id }, display: `migfhir adapter ${d.adapter.id} ${d.adapter.version}` } },
    ],
    entity: [{ role: 'source', what: { reference: d.patientUrl, display: `the patient's record at ${d.sender.id}` } }],
  };
  const entry: BundleEntry = { fullUrl: urnFor(source), resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist: `_source=${encodeURIComponent(source)}` } };
  return { bundle: { ...bundle, entry: [...(bundle.entry ?? []), entry] }, source };
}
