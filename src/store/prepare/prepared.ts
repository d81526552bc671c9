// A write prepared ahead of the writer (preparer.ts) as the writer takes it
// (Repository.updatePrepared): the stored JSON but for the version only the writer knows.
import type { IndexRows } from '../../search/index-rows.ts';

/** The lastUpdated of a prepared resource's placeholder version. */
export const PLACEHOLDER_TIME = '0000-00-00T00:00:00.000Z';

/** The placeholder of the versionId and lastUpdated only the writer knows (see storedJson). */
export const VERSION_MARK = `"versionId":"1","lastUpdated":"${PLACEHOLDER_TIME}"`;

/** A resource checked and labelled, as stored but for its version, with its index rows. */
export interface PreparedWrite {
  kind: 'ready';
  resourceType: string;
  id: string;
  /** the stored JSON with a placeholder version (storedJson) */
  json: string;
  /** where the placeholder is in `json` */
  versionAt: number;
  /** absent when the server stores no index rows */
  index?: IndexRows;
}

/** The stored JSON of a prepared write at its version: what JSON.stringify(withMeta(resource,
 * versionId, lastUpdated)) gives, without serializing the resource again. */
export function storedJson(p: PreparedWrite, versionId: number, lastUpdated: string): string {
  return `${p.json.slice(0, p.versionAt)}"versionId":${JSON.stringify(String(versionId))},"lastUpdated":${JSON.stringify(lastUpdated)}${p.json.slice(p.versionAt + VERSION_MARK.length)}`;
}

