// The R4 packages' StructureDefinitions are compiled from a compact form (only what
// compileProfile reads, cached on disk): it must compile to exactly the profile the published
// file compiles to, for every definition of the R4 package and of the HL7 extensions pack.
import t from 'tap';
import type { StructureDefinition } from 'fhir/r4.js';
import { readFileSync } from 'node:fs';
import { packageIndex } from '../../src/terminology/package-index.ts';
import { compactDefinition, compactPackaged } from '../../src/validation/compact-definitions.ts';
import { compileProfile } from '../../src/validation/profiles.ts';

t.test('the compact form compiles to the same profile as the published file', async (t) => {
  const index = packageIndex();
  // every R4 definition, and every 5th of the extensions pack (hundreds of similar extensions)
  const files = [...Object.values(index.structureDefinitions), ...Object.values(index.extensionPack).filter((_, i) => i % 5 === 0)];
  let compared = 0;
  let published = 0;
  let compacted = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const sd = JSON.parse(text) as StructureDefinition;
    if (!sd.snapshot?.element?.length) continue;
    const compact = compactDefinition(sd);
    const label = sd.url;
    // compared as JSON: the element tree with every compiled field, and the id index's keys
    const compiled = (x: StructureDefinition) => {
      const c = compileProfile(x);
      return JSON.stringify({ ...c, byId: [...c.byId.keys()] });
    };
    if (compiled(compact) !== compiled(sd)) t.fail(label);
    else compared++;
    published += text.length;
    compacted += JSON.stringify(compact).length;
  }
  t.ok(compared > 600, `${compared} definitions compile alike`);
  t.ok(compacted < published / 4, `${(compacted / 1e6).toFixed(1)} MB compact against ${(published / 1e6).toFixed(1)} MB published`);
});

t.test('the cached form is the compact form', async (t) => {
  const file = packageIndex().structureDefinitions['http://hl7.org/fhir/StructureDefinition/Observation'];
  const fresh = compactDefinition(JSON.parse(readFileSync(file, 'utf8')));
  t.same(compactPackaged(file), fresh, 'first use');
  t.same(compactPackaged(file), fresh, 'from the cache');
});
