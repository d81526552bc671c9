// Every R4 example (hl7.fhir.r4.examples@4.0.1) written as XML and read back gives the JSON it
// came from, and the XML written again from what was read is the same text (the canonical form
// is stable). In process, so the whole package is covered quickly; test/http/xml-round-trip.test.ts
// sends a sample through the server. The definition Bundles (up to 34 MB) are included: about
// 20 s of the file's 25.
import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { toXml } from '../../../src/fhir/xml/serialize.ts';
import { fromXml } from '../../../src/fhir/xml/parse.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

t.test('every R4 example: JSON → XML → JSON is the original, and XML → JSON → XML the same text', async (t) => {
  const failures: string[] = [];
  let checked = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f === 'package.json') continue;
    const path = join(dir, f);
    const resource = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof resource.resourceType !== 'string') continue;
    try {
      const xml = toXml(resource);
      const back = fromXml(xml, { maxDepth: 200 });
      if (!isDeepStrictEqual(back, resource)) failures.push(`${f}: read back differs`);
      else if (toXml(back) !== xml) failures.push(`${f}: written again differs`);
    } catch (err) {
      failures.push(`${f}: ${(err as Error).message.slice(0, 200)}`);
    }
    checked++;
  }
  t.same(failures, [], 'no example changes');
  t.ok(checked > 5300, `${checked} examples round-tripped`);
});
