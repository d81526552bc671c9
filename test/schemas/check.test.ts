// The JSON data files loaded at start-up satisfy their schemas, and a broken copy of one is
// refused with a message naming the file, the JSON pointer and what is wrong there.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDataFile, DataFileError } from '../../src/schemas/check.ts';
import type { SchemaName } from '../../src/schemas/schemas.ts';

const FILES: [string, SchemaName][] = [
  ...['de', 'gr', 'hr', 'it', 'pl', 'se'].map((c): [string, SchemaName] => [`src/mapping/${c}/profile.json`, 'national-profile']),
  ['src/mapping/identifier-systems.json', 'identifier-systems'],
  ['src/mpi/match-config.json', 'match-config'],
];

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

t.test('every data file the server loads satisfies its schema', async (t) => {
  for (const [file, schema] of FILES) t.doesNotThrow(() => checkDataFile(file, read(file), schema), file);
});

/** Writes a changed copy of `file` to a temporary directory and checks it as the server would. */
function brokenCopy(t: Test, file: string, schema: SchemaName, change: (data: any) => void): { path: string; error: unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-schema-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = read(file);
  change(data);
  const path = join(dir, file.split('/').slice(-2).join('-'));
  writeFileSync(path, JSON.stringify(data, null, 2));
  try {
    checkDataFile(path, read(path), schema);
    return { path, error: undefined };
  } catch (error) {
    return { path, error };
  }
}

t.test('a broken copy names the file and the JSON pointer', async (t) => {
  const cases: { file: string; schema: SchemaName; change: (d: any) => void; pointer: string; says: RegExp }[] = [
    { file: 'src/mapping/de/profile.json', schema: 'national-profile', change: (d) => (d.identifiers[0].check = 'kvnrr'), pointer: '/identifiers/0/check', says: /must be one of "kvnr", "pesel"/ },
    { file: 'src/mapping/se/profile.json', schema: 'national-profile', change: (d) => (d.identifiers[0].nationalSytem = d.identifiers[0].nationalSystem), pointer: '/identifiers/0', says: /unknown member 'nationalSytem'/ },
    { file: 'src/mapping/pl/profile.json', schema: 'national-profile', change: (d) => (d.profiles.Patient = 'not a uri'), pointer: '/profiles/Patient', says: /must match pattern/ },
    { file: 'src/mapping/identifier-systems.json', schema: 'identifier-systems', change: (d) => delete d.systems[2].system, pointer: '/systems/2', says: /must have required property 'system'/ },
    { file: 'src/mapping/identifier-systems.json', schema: 'identifier-systems', change: (d) => (d.systems[0].oid = '1.2.a'), pointer: '/systems/0/oid', says: /must match pattern/ },
    { file: 'src/mpi/match-config.json', schema: 'match-config', change: (d) => delete d.weights.twins, pointer: '/weights', says: /must have required property 'twins'/ },
    { file: 'src/mpi/match-config.json', schema: 'match-config', change: (d) => (d.blocking.perPass = '300'), pointer: '/blocking/perPass', says: /must be integer/ },
  ];
  for (const c of cases) {
    const { path, error } = brokenCopy(t, c.file, c.schema, c.change);
    t.type(error, DataFileError, `${c.file}: ${c.pointer} refused`);
    const message = (error as Error).message;
    t.ok(message.startsWith(`${path}: ${c.pointer} `), `names the copy and ${c.pointer}: ${message}`);
    t.match(message, c.says, `says what is wrong: ${message}`);
  }
});

t.test('a URL names the file by its path', async (t) => {
  const url = new URL('../../src/mpi/match-config.json', import.meta.url);
  t.throws(() => checkDataFile(url, { weights: {} }, 'match-config'), /\/src\/mpi\/match-config\.json: \/ must have required property/);
});
