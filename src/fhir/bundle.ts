// Bundles are written as JSON text around the stored resources' own text, so a page of history
// or search results is never parsed and re-serialized.
import type { Bundle, BundleLink } from 'fhir/r4.js';
import { ResourceJson } from './body.ts';

export interface EntryText {
  fullUrl?: string;
  /** stored JSON text of the resource */
  resourceJson?: string | null;
  /** other entry members (search, request, response), serialized with JSON.stringify */
  extra?: Record<string, unknown>;
}

export function bundleText(
  type: Bundle['type'],
  entries: EntryText[],
  options: { total?: number; link?: BundleLink[]; id?: string; timestamp?: string } = {},
): ResourceJson {
  const head: Record<string, unknown> = { resourceType: 'Bundle' };
  if (options.id) head.id = options.id;
  head.meta = { lastUpdated: options.timestamp ?? new Date().toISOString() };
  head.type = type;
  if (options.total !== undefined) head.total = options.total;
  if (options.link?.length) head.link = options.link;
  const parts = entries.map((e) => {
    let s = '{';
    if (e.fullUrl) s += `"fullUrl":${JSON.stringify(e.fullUrl)}`;
    if (e.resourceJson) s += `${s.length > 1 ? ',' : ''}"resource":${e.resourceJson}`;
    if (e.extra) {
      for (const [k, v] of Object.entries(e.extra)) {
        if (v !== undefined) s += `${s.length > 1 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}`;
      }
    }
    return `${s}}`;
  });
  const headText = JSON.stringify(head);
  return new ResourceJson('Bundle', parts.length ? `${headText.slice(0, -1)},"entry":[${parts.join(',')}]}` : headText);
}
