// Versioned writes, written once above every engine: version numbering, meta, If-Match,
// update-as-create, no-op updates, patch, logical delete, and the write pipeline every stored
// version passes (src/store/write-pipeline.ts: shape, validation, labels). Each method is one
// atomic store transaction, so concurrent writers cannot lose an update between the check and
// the write.
import type { Meta, Resource } from 'fhir/r4.js';
import { DeletedError, FhirError, gone, notFound, preconditionFailed } from '../fhir/errors.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { labelSensitive } from '../auth/sensitive.ts';
import { labelHook, type WriteInfo, type WritePipeline } from './write-pipeline.ts';
import type { ResourceStore, SearchMatch, SearchResult, StoredVersion, StoreTransaction, VersionWrite } from './types.ts';
import type { Cursor, SearchQuery } from '../search/ir.ts';
import type { IndexRows } from '../search/index-rows.ts';
import { jsonEqual } from '../fhir/json.ts';
import { storedJson, type PreparedWrite } from './prepare/prepared.ts';

export interface WriteResult {
  version: StoredVersion;
  /** true when this write created the resource (or re-created a deleted one) */
  created: boolean;
  /** true when an update changed nothing and no version was written */
  unchanged: boolean;
}

export interface DeleteResult {
  /** the deletion version, or the existing deletion when already deleted */
  version?: StoredVersion;
  existed: boolean;
}

/** Checks a resource before it is stored; throws a FhirError when it must not be. */
export type WriteCheck = (resource: Resource, tx: StoreTransaction) => Promise<void> | void;
/** Combines what a client wrote with the stored version (its JSON) it replaces (src/auth/sensitive.ts). */
export type Merge = (next: Resource, storedJson: string) => Resource;

/** A patch's result: the resource to store and, for a client without the migration-data scope,
 * what its patch made of the content it may see — checked instead, as in update. */
export interface Patched {
  resource: Resource;
  sent?: Resource;
}

/** How one write is made, besides what the pipeline does for every write. */
export interface WriteOptions {
  /** the version the client holds (If-Match): 412 when it is not the current one */
  ifMatch?: number;
  /** a check of this write only, after the pipeline (e.g. the IG's install) */
  check?: WriteCheck;
  /** combines the resource with the stored version it replaces (update) */
  merge?: Merge;
  /** 400 when the resource is the request's body (create, update); 422 otherwise (default) */
  shapeStatus?: WriteInfo['shapeStatus'];
  /** where the resource comes from, when the pipeline treats it apart (WriteInfo.origin) */
  origin?: WriteInfo['origin'];
}

/** The resource as stored: server-managed meta, key order resourceType, id, meta, rest. */
export function withMeta(resource: Resource, versionId: number, lastUpdated: string): Resource {
  const { resourceType, id: _id, meta, ...rest } = resource as Resource & Record<string, unknown>;
  void _id;
  return {
    resourceType,
    id: resource.id,
    meta: { ...meta, versionId: String(versionId), lastUpdated },
    ...rest,
  } as Resource;
}

/** Content identity ignoring server-managed meta, for no-op update detection. */
function sameContent(stored: string, next: Resource): boolean {
  const strip = (r: any) => {
    const { meta, ...rest } = r;
    if (!meta) return rest;
    const { versionId: _v, lastUpdated: _l, ...m } = meta;
    return Object.keys(m).length ? { ...rest, meta: m } : rest;
  };
  return jsonEqual(strip(JSON.parse(stored)), strip(next));
}

/** Computes a resource's search index rows (src/search/extract.ts); engines store them. */
export type Indexer = (resource: Resource) => IndexRows;

export class Repository {
  readonly store: ResourceStore;
  private readonly indexer?: Indexer;
  private readonly pipeline: WritePipeline;

  /** `pipeline`: the steps every write passes (src/store/write-pipeline.ts); without one, a
   * repository still labels what it stores. */
  constructor(store: ResourceStore, indexer?: Indexer, pipeline: WritePipeline = { checks: [], labels: [labelHook] }) {
    this.store = store;
    this.indexer = indexer;
    this.pipeline = pipeline;
  }

  /** Runs the write pipeline, then the write's own check, on the content about to be stored;
   * the pipeline's checks run on `checked` when it differs (see update). */
  private async admit(resource: Resource, tx: StoreTransaction, options: WriteOptions, checked = resource): Promise<void> {
    const info: WriteInfo = { shapeStatus: options.shapeStatus ?? 422, ...(options.origin ? { origin: options.origin } : {}) };
    for (const hook of this.pipeline.checks) await hook(checked, tx, info);
    for (const hook of this.pipeline.labels) await hook(resource, tx, info);
    await options.check?.(resource, tx);
  }

  private readonly listeners: ((written: VersionWrite[]) => void)[] = [];

  /** Called after each committed transaction with the versions it wrote (e.g. to register a
   * SearchParameter the moment it is stored). */
  onCommit(listener: (written: VersionWrite[]) => void): void {
    this.listeners.push(listener);
  }

  /** The transaction of the current async context, when a transaction Bundle is running. */
  private readonly ambient = new AsyncLocalStorage<StoreTransaction>();

  /** A store transaction that remembers its writes and tells the listeners after commit.
   * Called while a transaction is already open in this async context (a transaction Bundle's
   * entries), it joins it: every entry's writes commit or roll back together. */
  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const open = this.ambient.getStore();
    if (open) return work(open);
    const written: VersionWrite[] = [];
    const result = await this.store.transaction((raw) => {
      written.length = 0; // an engine may run `work` again (MongoDB retries on a write conflict)
      const tx: StoreTransaction = {
        current: (type, id) => raw.current(type, id),
        version: (type, id, v) => raw.version(type, id, v),
        write: async (v) => {
          await raw.write(v);
          written.push(v);
        },
        now: () => raw.now(),
        search: (q, cursor) => raw.search(q, cursor),
        ...(raw.claim ? { claim: (criteria: string) => raw.claim!(criteria) } : {}),
        reindex: (type, id, index) => raw.reindex(type, id, index),
        rewrite: (type, id, versionId, json) => raw.rewrite(type, id, versionId, json),
      };
      return this.ambient.run(tx, () => work(tx));
    });
    if (written.length) for (const l of this.listeners) l(written);
    return result;
  }

  /** Search, inside the open transaction when there is one (so a transaction Bundle's GET
   * entries see its writes). */
  search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult> {
    const open = this.ambient.getStore();
    return open ? open.search(query, cursor) : this.store.search(query, cursor);
  }

  /** Recomputes the index rows of resources in one transaction, from their current version
   * read inside it (a write since the scan is not overwritten with stale rows). No version is
   * written, so the write pipeline does not run: each version passed it when it was stored, and
   * refusing to reindex one that a later profile would refuse would only leave its rows stale. */
  async reindex(resources: { resourceType: string; id: string }[]): Promise<void> {
    if (!this.indexer) return;
    const indexer = this.indexer;
    await this.store.transaction(async (tx) => {
      for (const r of resources) {
        const current = await tx.current(r.resourceType, r.id);
        if (current && !current.deleted) await tx.reindex(r.resourceType, r.id, indexer(JSON.parse(current.json!) as Resource));
      }
    });
  }

  /** Labels the current versions of resources in place (labelSensitive: meta only, no new
   * version, as $meta-add) and recomputes their index rows: resources stored before a kind of
   * sensitive element was labelled (status-revealing identifiers) get their labels and the
   * marks of their rows. */
  async relabel(resources: { resourceType: string; id: string }[]): Promise<void> {
    const indexer = this.indexer;
    await this.store.transaction(async (tx) => {
      for (const r of resources) {
        const current = await tx.current(r.resourceType, r.id);
        if (!current || current.deleted) continue;
        const resource = JSON.parse(current.json!) as Resource;
        labelSensitive(resource);
        const json = JSON.stringify(resource);
        if (json !== current.json) await tx.rewrite(r.resourceType, r.id, current.versionId, json);
        if (indexer) await tx.reindex(r.resourceType, r.id, indexer(resource));
      }
    });
  }

  /** Current version; 404 when never stored, 410 when deleted. */
  async read(type: string, id: string): Promise<StoredVersion> {
    const v = await (this.ambient.getStore() ?? this.store).current(type, id);
    return this.live(type, id, v);
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredVersion> {
    const v = await (this.ambient.getStore() ?? this.store).version(type, id, versionId);
    if (!v) throw notFound(`${type}/${id} has no version ${versionId}`);
    if (v.deleted) throw new DeletedError(`Version ${versionId} of ${type}/${id} is a deletion`, v);
    return v;
  }

  private live(type: string, id: string, v: StoredVersion | undefined): StoredVersion {
    if (!v) throw notFound(`Resource ${type}/${id} is not known`);
    if (v.deleted) throw new DeletedError(`Resource ${type}/${id} was deleted`, v);
    return v;
  }

  /** Stores a new resource under `resource.id` (the caller assigns it). */
  create(resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      await this.admit(resource, tx, options);
      const existing = await tx.current(resource.resourceType, resource.id!);
      if (existing && !existing.deleted) {
        throw new FhirError(409, { code: 'duplicate', diagnostics: `${resource.resourceType}/${resource.id} exists` });
      }
      const version = await this.put(tx, resource, (existing?.versionId ?? 0) + 1, 'POST');
      return { version, created: true, unchanged: false };
    });
  }

  /** PUT semantics: update, or create with the client's id when absent (or deleted). With
   * `merge` (a client without the migration-data scope keeps the stored sensitive elements it
   * cannot see), the checks run on what the client sent: the kept elements were checked when
   * they were written, and an issue about them would tell the client they exist. */
  update(resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      const sent = resource;
      const existing = await tx.current(resource.resourceType, resource.id!);
      matchVersion(existing, options.ifMatch);
      if (options.merge && existing && !existing.deleted) resource = options.merge(resource, existing.json!);
      await this.admit(resource, tx, options, sent);
      if (existing && !existing.deleted && sameContent(existing.json!, resource)) {
        return { version: existing, created: false, unchanged: true };
      }
      const created = !existing || existing.deleted;
      const method = created && !existing ? 'POST' : 'PUT';
      const version = await this.put(tx, resource, (existing?.versionId ?? 0) + 1, method);
      return { version, created, unchanged: false };
    });
  }

  /** update() of a resource the write pipeline's store-free steps already ran on, ahead of the
   * writer (src/store/prepare: checked, labelled, its stored JSON and index rows made): the
   * writer only reads the current version, numbers the new one and writes it. A write that needs
   * more — `merge` with a stored version the client cannot see all of — is made by update() from
   * `sent()`, the resource as the client sent it, so that it is checked and labelled as ever.
   * Of the write pipeline, the preparation runs only the store-free steps: the caller prepares
   * only resources no other step applies to (src/store/prepare/preparer.ts). */
  updatePrepared(p: PreparedWrite, sent: () => Resource, options: Pick<WriteOptions, 'merge'> = {}): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      const existing = await tx.current(p.resourceType, p.id);
      const live = existing && !existing.deleted ? existing : undefined;
      if (options.merge && live) return this.update(sent(), { merge: options.merge, shapeStatus: 422 });
      if (live && sameContent(live.json!, JSON.parse(p.json) as Resource)) return { version: live, created: false, unchanged: true };
      const versionId = (existing?.versionId ?? 0) + 1;
      const lastUpdated = tx.now();
      const json = storedJson(p, versionId, lastUpdated);
      const method = existing ? 'PUT' : 'POST';
      await tx.write({ resourceType: p.resourceType, id: p.id, versionId, lastUpdated, method, json, index: this.indexer ? p.index : undefined });
      return { version: { resourceType: p.resourceType, id: p.id, versionId, lastUpdated, deleted: false, json }, created: !live, unchanged: false };
    });
  }

  /** create() of a resource prepared ahead of the writer, as updatePrepared: 409 when it exists. */
  createPrepared(p: PreparedWrite): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      const existing = await tx.current(p.resourceType, p.id);
      if (existing && !existing.deleted) throw new FhirError(409, { code: 'duplicate', diagnostics: `${p.resourceType}/${p.id} exists` });
      const versionId = (existing?.versionId ?? 0) + 1;
      const lastUpdated = tx.now();
      const json = storedJson(p, versionId, lastUpdated);
      await tx.write({ resourceType: p.resourceType, id: p.id, versionId, lastUpdated, method: 'POST', json, index: this.indexer ? p.index : undefined });
      return { version: { resourceType: p.resourceType, id: p.id, versionId, lastUpdated, deleted: false, json }, created: true, unchanged: false };
    });
  }

  /** Applies `change` to the current content inside the transaction (JSON Patch). */
  patch(
    type: string,
    id: string,
    change: (current: Resource) => Patched,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      const existing = this.live(type, id, await tx.current(type, id));
      matchVersion(existing, options.ifMatch);
      const { resource: next, sent } = change(JSON.parse(existing.json!));
      await this.admit(next, tx, options, sent);
      if (sameContent(existing.json!, next)) return { version: existing, created: false, unchanged: true };
      const version = await this.put(tx, next, existing.versionId + 1, 'PATCH');
      return { version, created: false, unchanged: false };
    });
  }

  /** Changes the meta of one version in place, without a new version ($meta-add, $meta-delete):
   * the current one when `versionId` is undefined. The current version's index rows follow, so
   * _tag, _profile and _security find it at once; the sensitivity labels stay (labelSensitive).
   * Of the write pipeline only the labels apply: the content is unchanged, and meta is not
   * validated on $meta-add (as in HAPI), so a version stored under earlier rules stays editable. */
  changeMeta(type: string, id: string, versionId: number | undefined, change: (meta: Meta) => Meta): Promise<Meta> {
    return this.transaction(async (tx) => {
      const current = this.live(type, id, await tx.current(type, id));
      const target = versionId === undefined || versionId === current.versionId ? current : await tx.version(type, id, versionId);
      if (!target) throw notFound(`Version ${versionId} of ${type}/${id} is not known`);
      if (target.deleted) throw gone(`Version ${versionId} of ${type}/${id} is a deletion`);
      const resource = JSON.parse(target.json!) as Resource;
      resource.meta = change({ ...resource.meta });
      labelSensitive(resource);
      const json = JSON.stringify(resource);
      if (json !== target.json) {
        await tx.rewrite(type, id, target.versionId, json);
        if (target === current && this.indexer) await tx.reindex(type, id, this.indexer(resource));
      }
      return resource.meta;
    });
  }

  delete(type: string, id: string, ifMatch?: number): Promise<DeleteResult> {
    return this.transaction((tx) => this.deleteIn(tx, type, id, ifMatch));
  }

  private async deleteIn(tx: StoreTransaction, type: string, id: string, ifMatch?: number): Promise<DeleteResult> {
    const existing = await tx.current(type, id);
    if (ifMatch !== undefined) matchVersion(existing, ifMatch);
    if (!existing) return { existed: false };
    if (existing.deleted) return { version: existing, existed: false };
    const lastUpdated = tx.now();
    const versionId = existing.versionId + 1;
    await tx.write({ resourceType: type, id, versionId, lastUpdated, method: 'DELETE', json: null });
    return {
      version: { resourceType: type, id, versionId, lastUpdated, deleted: true, json: null },
      existed: true,
    };
  }

  /** Matches of a conditional interaction's criteria, read inside the transaction so that
   * two concurrent conditional creates cannot both see "no match". */
  private async matches(tx: StoreTransaction, query: SearchQuery, limit: number): Promise<SearchMatch[]> {
    await tx.claim?.(criteriaKey(query));
    const result = await tx.search({ ...query, count: limit, include: [], revinclude: [], sort: [], total: 'none' });
    return result.matches;
  }

  /** Matches of a conditional search (a transaction Bundle's If-None-Exist, conditional
   * update or conditional reference), in the open transaction: claimed like the repository's
   * own conditional interactions, so concurrent transactions with the same criteria serialize. */
  conditionalMatches(query: SearchQuery, limit: number): Promise<SearchMatch[]> {
    return this.transaction((tx) => this.matches(tx, query, limit));
  }

  /** Stores a server-made resource (an AuditEvent) with its own fresh id, in the open
   * transaction when there is one. */
  createInternal(resource: Resource): Promise<StoredVersion> {
    return this.transaction((tx) => this.put(tx, resource, 1, 'POST'));
  }

  /** Conditional create (If-None-Exist): 0 matches → create, 1 → the existing one, more → 412. */
  createIfNoneExist(resource: Resource, query: SearchQuery, options: WriteOptions = {}): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      await this.admit(resource, tx, options);
      const found = await this.matches(tx, query, 2);
      if (found.length > 1) throw preconditionFailed('If-None-Exist matches more than one resource');
      if (found.length === 1) {
        const existing = (await tx.current(found[0].resourceType, found[0].id))!;
        return { version: existing, created: false, unchanged: true };
      }
      const version = await this.put(tx, resource, 1, 'POST');
      return { version, created: true, unchanged: false };
    });
  }

  /** Conditional update: 0 matches → create (with the body's id, or `newId`), 1 → update it,
   * more → 412. A body id that differs from the match's is refused. */
  conditionalUpdate(resource: Resource, query: SearchQuery, newId: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.transaction(async (tx) => {
      const found = await this.matches(tx, query, 2);
      if (found.length > 1) throw preconditionFailed('The conditional update criteria match more than one resource');
      let target = resource;
      if (found.length === 1) {
        if (resource.id !== undefined && resource.id !== found[0].id) {
          throw new FhirError(400, { code: 'invalid', diagnostics: `The body's id does not match the resource the criteria found (${found[0].id})` });
        }
        target = { ...resource, id: found[0].id } as Resource;
      } else if (resource.id === undefined) {
        target = { ...resource, id: newId } as Resource;
      }
      const existing = await tx.current(target.resourceType, target.id!);
      matchVersion(existing, options.ifMatch);
      const sent = target;
      // checked on what the client sent, as in update
      if (options.merge && existing && !existing.deleted) target = options.merge(target, existing.json!);
      await this.admit(target, tx, options, sent);
      if (existing && !existing.deleted && sameContent(existing.json!, target)) {
        return { version: existing, created: false, unchanged: true };
      }
      const created = !existing || existing.deleted;
      const version = await this.put(tx, target, (existing?.versionId ?? 0) + 1, created && !existing ? 'POST' : 'PUT');
      return { version, created, unchanged: false };
    });
  }

  /** Conditional delete: deletes the match; more than one match is refused with 412 unless
   * `max` allows deleting them all. */
  conditionalDelete(query: SearchQuery, max: number): Promise<DeleteResult[]> {
    return this.transaction(async (tx) => {
      const found = await this.matches(tx, query, Math.max(2, max + 1));
      if (found.length > max) {
        throw preconditionFailed(
          max === 1 ? 'The conditional delete criteria match more than one resource' : `The conditional delete criteria match more than ${max} resources`,
        );
      }
      const out: DeleteResult[] = [];
      for (const m of found) out.push(await this.deleteIn(tx, m.resourceType, m.id));
      return out;
    });
  }

  private async put(
    tx: StoreTransaction,
    resource: Resource,
    versionId: number,
    method: 'POST' | 'PUT' | 'PATCH',
  ): Promise<StoredVersion> {
    const lastUpdated = tx.now();
    const stored = withMeta(resource, versionId, lastUpdated);
    const json = JSON.stringify(stored);
    const index = this.indexer?.(stored);
    await tx.write({ resourceType: resource.resourceType, id: resource.id!, versionId, lastUpdated, method, json, index });
    return { resourceType: resource.resourceType, id: resource.id!, versionId, lastUpdated, deleted: false, json };
  }
}

/** What a conditional search selects (types and conditions), as the key of its claim. */
function criteriaKey(query: SearchQuery): string {
  return JSON.stringify({ types: query.types, conditions: query.conditions });
}

function matchVersion(existing: StoredVersion | undefined, ifMatch: number | undefined): void {
  if (ifMatch === undefined) return;
  if (!existing || existing.deleted) {
    throw preconditionFailed(`If-Match W/"${ifMatch}" given, but the resource does not exist`);
  }
  if (existing.versionId !== ifMatch) {
    throw preconditionFailed(`If-Match W/"${ifMatch}" does not match the current version W/"${existing.versionId}"`);
  }
}
