// migfhir sync push: send a patient's record from this installation to a remote endpoint as one
// transaction Bundle of conditional updates keyed on identifiers (or on meta.source, the
// origin, for resources without any), with a Provenance naming this installation. Sending the
// same record again changes nothing on a server that skips no-op updates (migfhir, HAPI).
// Migration status, journey and vulnerability elements are removed unless the endpoint's entry
// says migrationData: true.
import type { Bundle, Resource } from 'fhir/r4.js';
import type { FhirRecordOptions } from '../mapping/fhir-r4/adapter.ts';
import { redactBody } from '../auth/sensitive.ts';
import { resourceOf } from '../fhir/body.ts';
import { findAdapter } from '../mapping/registry.ts';
import { SyncError } from './errors.ts';
import { remoteWriter, type WriteSummary } from './local.ts';
import type { Progress } from './progress.ts';
import { withProvenance } from './provenance.ts';
import type { RemoteFhir } from './remote.ts';

export interface PushResult extends Partial<WriteSummary> {
  sent: number;
  bundle: Bundle;
  requests: number;
}

/** `resources` is the record as localRecord reads it; `base` is this installation's base URL. */
export async function push(remote: RemoteFhir, patientId: string, resources: Resource[], base: string, dryRun: boolean, progress: Progress, recorded = new Date().toISOString()): Promise<PushResult> {
  const endpoint = remote.endpoint;
  const adapter = findAdapter(endpoint.adapter);
  if (!adapter?.fromFhir) throw new SyncError(`${endpoint.id}: adapter '${endpoint.adapter}' has no outbound mapping`);
  progress.update('mapping', resources.length, undefined, true);
  const options: FhirRecordOptions = { base, receivingBase: endpoint.baseUrl };
  // without the endpoint's explicit consent, sensitive migration elements and their labels stay here
  const outgoing = endpoint.migrationData ? resources : resources.map((r) => resourceOf(redactBody(r)));
  const mapped = adapter.fromFhir(outgoing, options) as Bundle;
  const sender = { id: base, display: `migfhir at ${base}` };
  const { bundle, source } = withProvenance(mapped, { direction: 'push', sender, patientUrl: `${base}/Patient/${patientId}`, adapter, recorded });
  const result: PushResult = { sent: resources.length, bundle, requests: remote.requests };
  if (dryRun) return result;
  progress.update(`sending to ${endpoint.id}`, bundle.entry?.length ?? 0, undefined, true);
  return { ...result, ...(await remoteWriter(remote).write(bundle, source)), requests: remote.requests };
}
