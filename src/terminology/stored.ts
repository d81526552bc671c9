// Keeps the terminology service in step with the CodeSystem, ValueSet and ConceptMap resources
// stored on the server: all of them at start-up, then every committed write.
import type { ResourceStore, VersionWrite } from '../store/types.ts';
import type { Terminology } from './service.ts';

const TYPES = new Set(['CodeSystem', 'ValueSet', 'ConceptMap']);
type TermType = 'CodeSystem' | 'ValueSet' | 'ConceptMap';

export function applyTerminologyWrites(t: Terminology, written: VersionWrite[], urls: Map<string, string>): void {
  for (const w of written) {
    if (!TYPES.has(w.resourceType)) continue;
    const key = `${w.resourceType}/${w.id}`;
    const resource = w.json === null ? null : (JSON.parse(w.json) as { url?: string });
    t.track(w.resourceType as TermType, urls.get(key), resource);
    if (resource?.url) urls.set(key, resource.url);
    else urls.delete(key);
  }
}

export async function loadStoredTerminology(store: ResourceStore, t: Terminology, urls: Map<string, string>): Promise<void> {
  let position = 0;
  for (;;) {
    const batch = await store.scan([...TYPES], position, 500);
    if (!batch.length) return;
    for (const r of batch) {
      const resource = JSON.parse(r.json) as { url?: string };
      t.track(r.resourceType as TermType, undefined, resource);
      if (resource.url) urls.set(`${r.resourceType}/${r.id}`, resource.url);
    }
    position = batch[batch.length - 1].position;
  }
}
