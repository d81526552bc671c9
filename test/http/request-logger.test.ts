// A request's logger is made when it writes (src/http/request-logger.ts): every line a request
// writes carries its request id, at the level the server logs at, and a request at a level that
// writes nothing writes nothing.
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { testConfig, type Config } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

async function loggingApp(t: Test, logLevel: Config['logLevel']) {
  const lines: Record<string, unknown>[] = [];
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', logLevel }), { store, logStream: { write: (line) => void lines.push(JSON.parse(line)) } });
  // a route that logs on each level, and a child logger of its own
  app.get('/test/log', async (request) => {
    request.log.debug('a debug line');
    request.log.warn('a warning');
    request.log.child({ part: 'inner' }).error('from a child');
    return { debug: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('debug') };
  });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return { app, lines };
}

t.test('at warn, the lines a request writes carry its request id; nothing else is written', async (t) => {
  const { app, lines } = await loggingApp(t, 'warn');
  const before = lines.length;
  const res = await app.inject({ method: 'GET', url: '/test/log', headers: { 'x-request-id': 'req-warn-1' } });
  t.equal(res.statusCode, 200);
  const written = lines.slice(before);
  t.same(written.map((l) => l.msg), ['a warning', 'from a child'], 'the debug line, incoming request and request completed are below the level');
  for (const l of written) t.equal(l.reqId, 'req-warn-1', `"${String(l.msg)}" carries the request id`);
  t.equal(written[1].part, 'inner', "the child's own binding is kept");
  t.same(res.json(), { debug: false });
  // a FHIR request that succeeds writes nothing at warn
  const quiet = lines.length;
  t.equal((await app.inject({ method: 'GET', url: '/fhir/metadata' })).statusCode, 200);
  t.equal(lines.length, quiet);
});

t.test('at debug, the request lines and the route’s lines all carry the request id', async (t) => {
  const { app, lines } = await loggingApp(t, 'debug');
  const before = lines.length;
  const res = await app.inject({ method: 'GET', url: '/test/log', headers: { 'x-request-id': 'req-debug-1' } });
  t.equal(res.statusCode, 200);
  const written = lines.slice(before);
  t.same(written.map((l) => l.msg), ['incoming request', 'a debug line', 'a warning', 'from a child', 'request completed']);
  for (const l of written) t.equal(l.reqId, 'req-debug-1', `"${String(l.msg)}" carries the request id`);
  t.same(res.json(), { debug: true });
});
