// The documents a version write turns into (layout: src/search/mongo-layout.ts), and back.
// Driver-free, shared by the engine and the mingo test, so both store the same shape.
import { indexEntries, resourceKey, type ResourceDocument } from '../../search/mongo-layout.ts';
import type { HistoryEntry, StoredVersion, VersionWrite } from '../types.ts';
import { compactAudit, documentJson, type CompactAudit } from './audit-documents.ts';

/** One version in `history`. `sup` is when the next version replaced it (for _at). */
export interface HistoryDocument {
  _id: string;
  type: string;
  id: string;
  vid: number;
  lu: string;
  sup?: string;
  method: HistoryEntry['method'];
  json: string | null;
  seq: number;
}

export function historyDocument(v: VersionWrite, seq: number): HistoryDocument {
  return { _id: `${resourceKey(v.resourceType, v.id)}/${v.versionId}`, type: v.resourceType, id: v.id, vid: v.versionId, lu: v.lastUpdated, method: v.method, json: v.json, seq };
}

/** The `resources` document of the version just written; `rid` is kept from the resource's first
 * version. A deletion keeps the document (as a marker) without content or index entries. An
 * AuditEvent this server wrote keeps its fields instead of its JSON (`ae`, src/store/mongo/
 * audit-documents.ts); `compact` is what compactAudit() gave, when the caller worked it out. */
export function currentDocument(v: VersionWrite, seq: number, rid: number, compact: CompactAudit | undefined = compactAudit(v)): ResourceDocument {
  const doc: ResourceDocument = { _id: resourceKey(v.resourceType, v.id), type: v.resourceType, id: v.id, vid: v.versionId, lu: v.lastUpdated, del: v.json === null, seq, rid, json: compact ? null : v.json };
  if (compact) doc.ae = compact;
  if (v.json !== null && v.index) {
    doc.idx = indexEntries(v.index);
    if (v.index.sensitive?.length) doc.sens = v.index.sensitive;
  }
  return doc;
}

export function toStoredVersion(d: { type: string; id: string; vid: number; lu: string; json: string | null; ae?: CompactAudit }): StoredVersion {
  const json = documentJson(d);
  return { resourceType: d.type, id: d.id, versionId: d.vid, lastUpdated: d.lu, deleted: json === null, json };
}

export function toHistoryEntry(d: HistoryDocument): HistoryEntry {
  return { ...toStoredVersion(d), method: d.method, seq: d.seq };
}

/** The history entry of a compact AuditEvent, which has no `history` document: its one version,
 * from `resources`. */
export function compactHistoryEntry(d: ResourceDocument): HistoryEntry {
  return { ...toStoredVersion(d), method: 'POST', seq: d.seq };
}
