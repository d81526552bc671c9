// $meta, $meta-add and $meta-delete on one resource (or one of its versions):
//   https://hl7.org/fhir/R4/resource-operation-meta.html
//   https://hl7.org/fhir/R4/resource-operation-meta-add.html
//   https://hl7.org/fhir/R4/resource-operation-meta-delete.html
// GET|POST [type]/[id](/_history/[vid])/$meta answers Parameters { return: Meta };
// POST …/$meta-add and …/$meta-delete take Parameters { meta: Meta } and change the profiles,
// tags and security labels in place: R4 makes no new version for them. Tags and security labels
// are sets keyed by system+code, profiles by url. The migration-data labels the server sets on
// sensitive resources (src/auth/sensitive.ts) cannot be deleted: they follow the content.
// GET [base]/$meta and [base]/[type]/$meta answer the tags, security labels (system and code;
// displays are not indexed) and profiles in use on current resources, at most LIMIT of each.
import type { Coding, Meta, Parameters } from 'fhir/r4.js';
import { allows, authorize, forbidden } from '../auth/authorize.ts';
import { metaView, REDACTED } from '../auth/sensitive.ts';
import { badRequest, gone, notFound } from '../fhir/errors.ts';
import { defineOperation } from './types.ts';
import { versionNumber } from '../rest/common.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from '../rest/types.ts';

const key = (c: Coding) => `${c.system ?? ''}|${c.code ?? ''}`;
/** A response label, never stored (src/auth/sensitive.ts adds it to redacted reads). */
const REDACTED_KEY = key(REDACTED);

function answer(meta: Meta): FhirResponse {
  const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'return', valueMeta: meta }] };
  return { status: 200, body };
}

function version(req: FhirRequest): number | undefined {
  return req.versionId === undefined ? undefined : versionNumber(req.versionId);
}

/** The `meta` parameter of a $meta-add / $meta-delete body. */
function metaInput(req: FhirRequest): Meta {
  const body = req.body as Parameters | undefined;
  if (!body || body.resourceType !== 'Parameters') throw badRequest('The body is a Parameters resource with a meta parameter (valueMeta)', 'structure');
  const found = (body.parameter ?? []).filter((p) => p.name === 'meta');
  if (found.length !== 1 || !found[0].valueMeta || typeof found[0].valueMeta !== 'object') throw badRequest('Exactly one meta parameter (valueMeta) is required', 'required');
  const meta = found[0].valueMeta;
  for (const [name, list] of [['tag', meta.tag], ['security', meta.security]] as const) {
    if (list !== undefined && (!Array.isArray(list) || list.some((c) => !c || typeof c.code !== 'string'))) throw badRequest(`meta.${name} is a list of Codings with a code`, 'value');
  }
  if (meta.profile !== undefined && (!Array.isArray(meta.profile) || meta.profile.some((p) => typeof p !== 'string'))) throw badRequest('meta.profile is a list of canonical urls', 'value');
  return meta;
}

/** most tags, labels and profiles a type- or system-level $meta lists, each */
const LIMIT = 1000;

export const meta: Handler = async (req, ctx) => {
  const type = req.resourceType;
  if (type === undefined || req.id === undefined) {
    // in use on the type, or on every type the client may search
    if (type) authorize(req.auth, type, 's');
    const types = type ? [type] : req.auth ? ctx.types.defs.resourceTypes.filter((t) => allows(req.auth, t, 's')) : undefined;
    if (types?.length === 0) throw forbidden('The access token allows searching no resource type');
    const inUse = await ctx.repo.store.metaInUse(types, LIMIT);
    // the sensitivity labels in use are part of what a client without the migration-data scope is not shown
    const security = metaView(req.auth, { security: inUse.security }).security ?? [];
    return answer(clean({ profile: inUse.profile.length ? inUse.profile : undefined, tag: inUse.tag.length ? inUse.tag : undefined, security: security.length ? security : undefined }));
  }
  authorize(req.auth, type, 'r');
  const vid = version(req);
  const v = vid === undefined ? await ctx.repo.store.current(type, req.id!) : await ctx.repo.store.version(type, req.id!, vid);
  if (!v) throw notFound(`${type}/${req.id}${vid === undefined ? '' : `/_history/${vid}`} is not known`);
  if (v.deleted) throw gone(`${type}/${req.id} was deleted`);
  return answer(metaView(req.auth, JSON.parse(v.json!).meta ?? {}));
};

export const metaAdd: Handler = async (req, ctx: Context) => {
  authorize(req.auth, req.resourceType!, 'u');
  const add = metaInput(req);
  const result = await ctx.repo.changeMeta(req.resourceType!, req.id!, version(req), (m) => {
    const union = (have: Coding[] | undefined, more: Coding[] | undefined) => {
      const out = [...(have ?? [])];
      for (const c of more ?? []) if (key(c) !== REDACTED_KEY && !out.some((h) => key(h) === key(c))) out.push(c);
      return out.length ? out : undefined;
    };
    const profile = [...new Set([...(m.profile ?? []), ...(add.profile ?? [])])];
    return { ...m, profile: profile.length ? profile : undefined, tag: union(m.tag, add.tag), security: union(m.security, add.security) };
  });
  return answer(metaView(req.auth, clean(result)));
};

export const metaDelete: Handler = async (req, ctx: Context) => {
  authorize(req.auth, req.resourceType!, 'u');
  const remove = metaInput(req);
  const result = await ctx.repo.changeMeta(req.resourceType!, req.id!, version(req), (m) => {
    const gone = new Set([...(remove.tag ?? []), ...(remove.security ?? [])].map(key));
    const keep = (list: Coding[] | undefined) => {
      const out = (list ?? []).filter((c) => !gone.has(key(c)));
      return out.length ? out : undefined;
    };
    const profile = (m.profile ?? []).filter((p) => !(remove.profile ?? []).includes(p));
    return { ...m, profile: profile.length ? profile : undefined, tag: keep(m.tag), security: keep(m.security) };
  });
  return answer(metaView(req.auth, clean(result)));
};

/** A meta without the keys its change left undefined. */
function clean(meta: Meta): Meta {
  return Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)) as Meta;
}

const META_OUT = { name: 'return', use: 'out', min: 1, max: '1', type: 'Meta' } as const;

export const metaOperation = defineOperation({
  code: 'meta',
  id: 'Resource-meta',
  title: 'Access a list of profiles, tags, and security labels',
  description: 'The meta of a resource (version), or the profiles, tags and security labels in use on a type or the whole server.',
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-meta',
  levels: ['system', 'type', 'instance'],
  resourceTypes: '*',
  get: true,
  versioned: true,
  parameters: [META_OUT],
  handler: meta,
});

/** $meta-add and $meta-delete: a change of one resource's (version's) meta in place. */
function metaChange(code: 'meta-add' | 'meta-delete', title: string, description: string, handler: Handler) {
  return defineOperation({
    code,
    id: `Resource-${code}`,
    title,
    description,
    base: `http://hl7.org/fhir/OperationDefinition/Resource-${code}`,
    levels: ['instance'],
    resourceTypes: '*',
    affectsState: true,
    writes: true,
    versioned: true,
    access: ['u'],
    parameters: [{ name: 'meta', use: 'in', min: 1, max: '1', type: 'Meta' }, META_OUT],
    handler,
  });
}

export const metaAddOperation = metaChange('meta-add', 'Add profiles, tags, and security labels to a resource', 'Adds to the meta of a resource (version) without a new version.', metaAdd);
export const metaDeleteOperation = metaChange('meta-delete', 'Delete profiles, tags, and security labels from a resource', 'Removes from the meta of a resource (version) without a new version.', metaDelete);
