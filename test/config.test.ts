import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadConfig, OPTIONS } from '../src/config.ts';

t.test('flags win over environment variables, which win over defaults', async (t) => {
  const c = loadConfig(['--port', '9000', '--log-level=warn'], { MIGFHIR_PORT: '7000', MIGFHIR_HOST: '0.0.0.0' });
  t.equal(c.port, 9000);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.logLevel, 'warn');
  t.equal(c.basePath, '/fhir');
  t.equal(loadConfig([], {}).port, 8080);
});

t.test('base URL sets the API path', async (t) => {
  const c = loadConfig([], { MIGFHIR_BASE_URL: 'https://fhir.example.org/r4/' });
  t.equal(c.baseUrl, 'https://fhir.example.org/r4');
  t.equal(c.basePath, '/r4');
});

t.test('bad values are refused with the option named', async (t) => {
  t.throws(() => loadConfig(['--port', 'x']), /--port/);
  t.throws(() => loadConfig(['--nope', '1']), /unknown option/);
  t.throws(() => loadConfig([], { MIGFHIR_BASE_URL: 'not a url' }), /MIGFHIR_BASE_URL/);
  t.throws(() => loadConfig(['--sqlite-synchronous', 'off']), /normal, full/);
});

t.test('the README documents every option', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const o of OPTIONS) {
    t.match(readme, `| \`${o.flag}\` | \`${o.env}\` |`, `${o.flag} is in the README`);
  }
});

t.test('the MongoDB store is chosen by flag or environment and needs a URI', async (t) => {
  const uri = 'mongodb://h1,h2,h3/migfhir?replicaSet=rs0';
  t.match(loadConfig(['--store', 'mongodb', '--mongodb-uri', uri]), { store: 'mongodb', mongodbUri: uri });
  t.match(loadConfig([], { MIGFHIR_STORE: 'mongodb', MIGFHIR_MONGODB_URI: uri }), { store: 'mongodb', mongodbUri: uri });
  t.equal(loadConfig([]).store, 'sqlite', 'the embedded engine stays the default');
  t.throws(() => loadConfig(['--store', 'mongodb']), /--mongodb-uri/);
  t.throws(() => loadConfig(['--store', 'postgres']), /sqlite, mongodb/);
});
