// HTTP side of the HL7 v2 operations of the route table ($hl7v2-ingest, src/operations/
// hl7v2-ingest.ts), in their own Fastify scope so that their media types
// (x-application/hl7-v2+er7, text/plain: raw bytes, decoded per MSH-18) reach only these routes.
import type { FastifyInstance } from 'fastify';
import { HL7_MEDIA_TYPES } from '../operations/hl7v2.ts';
import { routeTable } from '../rest/route-table.ts';
import type { Context } from '../rest/types.ts';
import { registerRoute } from './routes.ts';

export function registerHl7v2Routes(ctx: Context) {
  return async (app: FastifyInstance) => {
    app.addContentTypeParser(HL7_MEDIA_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const spec of routeTable()) if (spec.operation?.rawBody) registerRoute(app, spec, ctx);
  };
}
