// GET [base]/Patient/[id]/$hl7v2-export?event=A28|A31 (server-specific): the ADT message for a
// Patient, built from what the client may see of it (src/auth/sensitive.ts viewFor).
import { randomUUID } from 'node:crypto';
import type { Patient } from 'fhir/r4.js';
import { authorize } from '../auth/authorize.ts';
import { viewFor } from '../auth/sensitive.ts';
import { badRequest } from '../fhir/errors.ts';
import { fromFhir } from '../mapping/hl7v2/from-fhir.ts';
import { MediaText } from '../fhir/body.ts';
import type { Handler } from '../rest/types.ts';
import { ER7 } from './hl7v2-ingest.ts';
import { defineOperation } from './types.ts';

const hl7v2Export: Handler = async (req, ctx) => {
  authorize(req.auth, 'Patient', 'r');
  const event = req.query.event?.[0] ?? 'A31';
  if (event !== 'A28' && event !== 'A31') throw badRequest('event must be A28 (add person) or A31 (update person)', 'value');
  const patient = viewFor(req.auth)(JSON.parse((await ctx.repo.read('Patient', req.id!)).json!) as Patient);
  const message = fromFhir([patient], { event, controlId: randomUUID().replace(/-/g, '').slice(0, 20), now: new Date().toISOString() });
  return { status: 200, body: new MediaText(ER7, message) };
};

export const hl7v2ExportOperation = defineOperation({
  code: 'hl7v2-export',
  id: 'hl7v2-export',
  title: 'Export a Patient as an HL7 v2 ADT message',
  description: 'The ADT^A28 (add person) or ADT^A31 (update person) message for the Patient, from what the client may see.',
  levels: ['instance'],
  resourceTypes: ['Patient'],
  get: true,
  post: false,
  ownFormats: true,
  access: ['r'],
  parameters: [
    { name: 'event', use: 'in', min: 0, max: '1', type: 'code', documentation: 'A28 or A31 (the default)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'string', documentation: 'The ER7 message (x-application/hl7-v2+er7)' },
  ],
  handler: hl7v2Export,
});
