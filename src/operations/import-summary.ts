// $import-summary (server-specific): stores a received International Patient Summary.
// The document's entries become one transaction: the patient is matched by identifier
// (conditional create: an existing patient is reused, never duplicated), every other entry is
// created unless it was imported before (meta.source keeps the entry's fullUrl, so importing
// the same document twice changes nothing), references are rewritten to the stored ids, the
// Composition is kept, and a Provenance records where the data came from.
import type { Bundle, BundleEntry, Provenance, Resource } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { badRequest } from '../fhir/errors.ts';
import { bundle } from '../rest/bundle.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { Handler } from '../rest/types.ts';

function documentOf(body: unknown): Bundle {
  const b = body as { resourceType?: string; parameter?: { name: string; resource?: Resource }[] } | undefined;
  const doc = (b?.resourceType === 'Parameters' ? b.parameter?.find((p) => p.name === 'document' || p.name === 'resource')?.resource : b) as Bundle | undefined;
  if (doc?.resourceType !== 'Bundle' || doc.type !== 'document') throw badRequest('$import-summary takes a Bundle of type document', 'invalid');
  if (doc.entry?.[0]?.resource?.resourceType !== 'Composition') throw badRequest('The first entry of a document is its Composition', 'invalid', ['Bundle.entry[0]']);
  if (!doc.identifier?.value) throw badRequest('A document Bundle needs an identifier', 'required', ['Bundle.identifier']);
  (doc.entry ?? []).forEach((e, i) => {
    if (!e.fullUrl || !e.resource) throw badRequest(`Bundle.entry[${i}] needs a fullUrl and a resource`, 'required', [`Bundle.entry[${i}]`]);
  });
  return doc;
}

export const importSummary: Handler = async (req, ctx) => {
  const doc = documentOf(req.body);
  const entries: BundleEntry[] = [];
  const targets: string[] = [];
  for (const e of doc.entry!) {
    const { id: _id, meta, ...rest } = e.resource as Resource & Record<string, unknown>;
    void _id;
    const resource = { ...rest, meta: { ...(meta as object), source: e.fullUrl } } as Resource;
    delete (resource.meta as Record<string, unknown>).versionId;
    delete (resource.meta as Record<string, unknown>).lastUpdated;
    const ident = (resource as { identifier?: { system?: string; value?: string }[] }).identifier?.find((i) => i.system && i.value);
    // patients are matched by identifier; everything else by the fullUrl it had in the document
    const ifNoneExist = resource.resourceType === 'Patient' && ident ? `identifier=${encodeURIComponent(`${ident.system}|${ident.value}`)}` : `_source=${encodeURIComponent(e.fullUrl!)}`;
    entries.push({ fullUrl: e.fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ifNoneExist } });
    targets.push(e.fullUrl!);
  }
  // one Provenance per document, however often it is imported: keyed like the entries, on the
  // document's identifier (its value when that is a URI, e.g. urn:uuid:…)
  const value = doc.identifier!.value!;
  const source = /^[a-z][a-z0-9+.-]*:/i.test(value) ? value : `${doc.identifier!.system ?? 'urn:migfhir:document'}#${encodeURIComponent(value)}`;
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { source },
    target: targets.map((t) => ({ reference: t })),
    recorded: new Date().toISOString(),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE', display: 'create' }] },
    agent: [{ who: { display: req.auth?.clientId ? `client ${req.auth.clientId}` : 'migfhir $import-summary' } }],
    entity: [{ role: 'source', what: { identifier: doc.identifier, display: 'International Patient Summary document' } }],
  };
  entries.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist: `_source=${encodeURIComponent(source)}` } });
  const tx = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  return bundle({ ...req, method: 'POST', resourceType: undefined, id: undefined, body: tx, query: Object.create(null) }, ctx);
};

export const importSummaryOperation = defineOperation({
  code: 'import-summary',
  id: 'import-summary',
  title: 'Import an International Patient Summary',
  description: 'Stores a received IPS document in one transaction: the patient matched by identifier, entries imported once, with a Provenance.',
  levels: ['system'],
  affectsState: true,
  writes: true,
  auditAs: 'transaction',
  notInTransaction: 'imports a whole document Bundle as its own transaction',
  bundleBody: true,
  resourceBody: true,
  parameters: [
    ...parametersOf('in', 'document:Bundle resource:Bundle', { document: 'The document Bundle (the body may also be the Bundle itself)', resource: 'Another name for document' }),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: importSummary,
});
