// The baseline for scripts/bench/core.ts: a bare Fastify server that answers GET with a stored
// Patient's bytes from memory and POST by parsing the body and answering 201 — what migfhir's
// read and create cost at the very least.
import Fastify from 'fastify';

const body = process.env.BARE_BODY ?? '{}';
const app = Fastify({ logger: false });
app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, (_req, text, done) => {
  try {
    done(null, JSON.parse(text as string));
  } catch (err) {
    done(err as Error, undefined);
  }
});
app.get('/fhir/Patient/:id', async (_req, reply) => reply.header('content-type', 'application/fhir+json; charset=utf-8').send(body));
app.post('/fhir/Patient', async (req, reply) => {
  const r = req.body as { resourceType?: string };
  return reply.code(201).header('content-type', 'application/fhir+json; charset=utf-8').send(JSON.stringify({ resourceType: r.resourceType, id: 'x' }));
});
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
process.stdout.write(`listening at http://127.0.0.1:${port}/fhir\n`);
