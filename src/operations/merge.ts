// Patient $merge (in the style of HAPI's $merge and IHE PMIR): records that two Patient
// records are the same person — PAAYPA becomes AMKA when protection is granted, an STP record
// becomes a codice fiscale one, a duplicate found by $match — without losing either record:
// the source gets link replaced-by → target and active=false, the target gets link replaces →
// source, in one transaction. Nothing is deleted or rewritten; Patient/[target]/$everything
// with followLinks=true gathers both compartments. `preview=true` answers what would change.
import type { Parameters, Patient, PatientLink } from 'fhir/r4.js';
import { badRequest, operationOutcome } from '../fhir/errors.ts';
import { authorize } from '../auth/authorize.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { Handler } from '../rest/types.ts';

function patientId(p: Parameters, name: string): string {
  const param = p.parameter?.find((x) => x.name === name);
  const ref = param?.valueReference?.reference ?? param?.valueString;
  const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(ref ?? '');
  if (!m) throw badRequest(`$merge needs ${name} as a Patient reference`, 'required');
  return m[1];
}

function withLink(p: Patient, other: string, type: PatientLink['type']): Patient {
  const links = (p.link ?? []).filter((l) => l.other.reference !== `Patient/${other}`);
  return { ...p, link: [...links, { other: { reference: `Patient/${other}` }, type }] };
}

export const merge: Handler = async (req, ctx) => {
  authorize(req.auth, 'Patient', 'r', 'u');
  const body = req.body as Parameters | undefined;
  if (body?.resourceType !== 'Parameters') throw badRequest('$merge takes a Parameters resource', 'invalid');
  const source = patientId(body, 'source-patient');
  const target = patientId(body, 'target-patient');
  if (source === target) throw badRequest('source-patient and target-patient are the same record', 'invalid');
  const preview = body.parameter?.find((x) => x.name === 'preview')?.valueBoolean === true;
  return ctx.repo.transaction(async () => {
    const s = JSON.parse((await ctx.repo.read('Patient', source)).json!) as Patient;
    const t = JSON.parse((await ctx.repo.read('Patient', target)).json!) as Patient;
    const nextSource = { ...withLink(s, target, 'replaced-by'), active: false };
    const nextTarget = withLink(t, source, 'replaces');
    if (!preview) {
      await ctx.repo.update(nextSource);
      await ctx.repo.update(nextTarget);
    }
    const out: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'outcome', resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `${preview ? 'Would link' : 'Linked'} Patient/${source} (replaced-by) and Patient/${target} (replaces)` }]) },
        { name: 'source-patient', resource: nextSource },
        { name: 'result', resource: nextTarget },
      ],
    };
    return { status: 200, body: out };
  });
};

export const mergeOperation = defineOperation({
  code: 'merge',
  id: 'merge',
  title: 'Record that two Patient records are the same person',
  description: 'Links source (replaced-by, active=false) and target (replaces) in one transaction; nothing is deleted. preview=true answers what would change.',
  levels: ['type'],
  resourceTypes: ['Patient'],
  affectsState: true,
  writes: true,
  auditAs: 'update',
  access: ['r', 'u'],
  parameters: [
    ...parametersOf('in', 'source-patient:Reference! target-patient:Reference! preview:boolean', { 'source-patient': 'The record that is replaced (valueReference, or valueString Patient/[id])', 'target-patient': 'The record that remains' }),
    ...parametersOf('out', 'outcome:OperationOutcome! source-patient:Patient! result:Patient!'),
  ],
  handler: merge,
});
