// The MLLP listener's messages prepared ahead (ids guessed and resources checked, labelled and
// indexed off the main thread: src/rest/bundle-prepared.ts) are stored exactly as the main
// thread alone stores them: the whole corpus, then registrations, updates of the registered
// patients (whose Provenance's guessed references are patched to the stored records) and
// discharges, applied in the same order to a server with a prepare pool and one without; the
// stored JSON, the index rows, the labels, the Provenance, the answers and the ACKs are compared
// with ids and times replaced by their order of appearance. The same messages applied in batches
// (one store transaction each, look-ups proven absent by one search: src/mapping/absent-matches.ts)
// are stored as one message at a time stores them, on both engines.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { fhir, testApp } from '../helpers/app.ts';
import { ingestBatch } from '../../src/operations/hl7v2.ts';
import { Hl7v2Mapper, mapHere, type MapResult } from '../../src/transport/hl7v2-mapper.ts';
import type { Context, FhirRequest } from '../../src/rest/types.ts';
import type { ResourceStore, VersionWrite } from '../../src/store/types.ts';
import { confirmedWrite, speculate } from '../../src/rest/bundle-prepared.ts';
import { bytesOf, FIXTURES } from '../mapping/hl7v2/fixtures.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';

const RECEIVED = '2026-12-06T12:00:00.000Z';

/** One ADT message of a hospital feed. */
function adt(kind: string, n: number, person: number): Buffer {
  const ts = `202403${String(10 + (n % 18)).padStart(2, '0')}101500+0200`;
  const pid = `PID|1||MRN${person}^^^ATTIKON^MR~PA-${person}^^^PAAYPA||Παπαδοπούλου^Ελένη^^^^^L~Haidari^Ali^^^^^L||19${50 + person}0115|${person % 2 ? 'F' : 'M'}|||Οδός ${person}^^Αθήνα^^10551^GRC^H||+30691${String(person).padStart(7, '0')}^PRN^CP||ara^Arabic^ISO639|||||||||SYR^Syria^ISO3166`;
  const nk1 = person % 3 === 0 ? [`NK1|1|Doctors of the World^^^^^^L|GRD^Guardian^HL70063||+302101234567|||||||Doctors of the World Greece`] : [];
  const pv1 = `PV1|1|O|CLINIC^${person}^^ATTIKON||||||||||||||||V${person}^^^ATTIKON^VN|||||||||||||||||||||||||${ts}${kind === 'A03' ? `|${ts}` : ''}`;
  return Buffer.from([`MSH|^~\\&|HIS|ATTIKON|MIGFHIR|EU|${ts}||ADT^${kind}^ADT_A01|P${n}|P|2.5|||AL|NE||UNICODE UTF-8`, `EVN|${kind}|${ts}`, pid, ...nk1, pv1].join('\r'));
}

/** Registrations, updates and discharges of the same people, as a hospital feed sends them. */
function feed(): Buffer[] {
  const out: Buffer[] = [];
  const msg = (kind: string, n: number, person: number) => out.push(adt(kind, n, person));
  let n = 0;
  for (let p = 0; p < 8; p++) msg('A04', n++, p);
  for (let p = 0; p < 8; p++) msg('A08', n++, p);
  for (let p = 0; p < 8; p += 2) msg('A03', n++, p);
  // a message sent twice: the second is a duplicate, nothing written
  msg('A04', 0, 0);
  return out;
}

/** ids (in order of first appearance) and times replaced, so two servers' writes compare. */
class Normalizer {
  private readonly names = new Map<string, string>();
  name(id: string): string {
    let n = this.names.get(id);
    if (!n) this.names.set(id, (n = `id-${this.names.size}`));
    return n;
  }
  text(s: string): string {
    let out = s;
    for (const [id, n] of this.names) out = out.replaceAll(id, n);
    return out.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, (m) => (m === RECEIVED ? m : 'TIME'));
  }
  write(w: VersionWrite): unknown {
    this.name(w.id);
    return { type: w.resourceType, id: this.name(w.id), versionId: w.versionId, method: w.method, json: w.json && this.text(w.json), index: w.index && JSON.parse(this.text(JSON.stringify(w.index))) };
  }
}

/** An ACK without its own control id and time (MSH-7, MSH-10). */
function ack(text: string): string {
  return text
    .split('\r')
    .map((seg) => (seg.startsWith('MSH|') ? seg.split('|').map((f, i) => (i === 6 || i === 9 ? '' : f)).join('|') : seg))
    .join('\r');
}

interface Run {
  app: FastifyInstance;
  writes: VersionWrite[];
  answers: string[];
}

async function server(prepareThreads: number): Promise<Run> {
  const app = await testApp({ prepareThreads });
  const writes: VersionWrite[] = [];
  (app as unknown as { fhir: Context }).fhir.repo.onCommit((w) => writes.push(...w));
  return { app, writes, answers: [] };
}

const req: FhirRequest = { method: 'POST', baseUrl: 'http://test.local/fhir', query: Object.create(null), headers: {} };

async function apply(run: Run, bytes: Buffer, mapped: MapResult): Promise<void> {
  const ctx = (run.app as unknown as { fhir: Context }).fhir;
  const [r] = await ingestBatch({ ...req }, ctx, [{ bytes }], undefined, [mapped]);
  run.answers.push(`${ack(r.ack)}\n${JSON.stringify({ status: r.response.status, body: r.response.body, patient: r.patient })}`);
}

t.test('the corpus and a feed prepared ahead are stored as the main thread alone stores them', async (t) => {
  const prepared = await server(1);
  const inline = await server(0);
  t.teardown(async () => {
    await prepared.app.close();
    await inline.app.close();
  });
  const ctx = (prepared.app as unknown as { fhir: Context }).fhir;
  const mapper = new Hl7v2Mapper({ pool: ctx.prepare, rules: { audit: !!ctx.audit } });
  t.teardown(() => mapper.close());
  await mapper.started();
  await mapper.preparing();
  let uses = 0;
  for (const method of ['createPrepared', 'updatePrepared'] as const) {
    const original = ctx.repo[method].bind(ctx.repo) as (...a: unknown[]) => Promise<unknown>;
    (ctx.repo as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
      uses++;
      return original(...a);
    };
  }
  const messages = [...FIXTURES.map(bytesOf), ...feed()];
  const [normPrepared, normInline] = [new Normalizer(), new Normalizer()];
  let withPreparation = 0;
  for (const bytes of messages) {
    const ahead = await mapper.map(bytes, RECEIVED);
    if ('prepared' in ahead && ahead.prepared) withPreparation++;
    await apply(prepared, bytes, ahead);
    await apply(inline, bytes, mapHere(bytes, RECEIVED));
  }
  t.ok(withPreparation > messages.length / 2, `${withPreparation} of ${messages.length} messages prepared ahead`);
  t.ok(uses > 40, `${uses} resources written as prepared`);
  t.equal(prepared.writes.length, inline.writes.length, 'as many versions written');
  // every id named first, in the order written: a Provenance is written before its targets
  for (const w of prepared.writes) normPrepared.name(w.id);
  for (const w of inline.writes) normInline.name(w.id);
  const a = prepared.writes.map((w) => normPrepared.write(w));
  const b = inline.writes.map((w) => normInline.write(w));
  for (let i = 0; i < Math.max(a.length, b.length); i++) t.same(a[i], b[i], `version ${i} (${inline.writes[i]?.resourceType})`);
  // ids named by the writes; any other UUID (a response Bundle's own id) is new each time
  const answers = (run: Run, norm: Normalizer) => run.answers.map((x) => norm.text(x).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID'));
  const [ap, ai] = [answers(prepared, normPrepared), answers(inline, normInline)];
  for (let i = 0; i < ai.length; i++) t.equal(ap[i], ai[i], `answer ${i}`);
  t.ok(inline.writes.some((w) => w.json?.includes('"security"')), 'labelled resources among them');
});

t.test('a guessed reference is patched to the record the transaction found, or left to the ordinary path', async (t) => {
  const spec = speculate({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient?identifier=a|1' } },
      { fullUrl: 'urn:uuid:e', resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:p' } } as never, request: { method: 'POST', url: 'Encounter' } },
    ],
  });
  const [patientGuess, encounterGuess] = spec.ids as string[];
  t.match(JSON.parse(spec.texts[1]!), { id: encounterGuess, subject: { reference: `Patient/${patientGuess}` } });
  const json = spec.texts[1]!.replace(`"id":"${encounterGuess}"`, `"id":"${encounterGuess}","meta":{"versionId":"1","lastUpdated":"0000-00-00T00:00:00.000Z"}`);
  const write = { kind: 'ready' as const, resourceType: 'Encounter', id: encounterGuess, json, versionAt: json.indexOf('"versionId"'), index: { string: [], token: [], date: [], number: [], quantity: [], uri: [], composite: [], reference: [{ param: 'subject', targetType: 'Patient', targetId: patientGuess, url: null, version: null, identifierSystem: null, identifierValue: null }] } };
  const prepared = { entries: [{ id: patientGuess }, { id: encounterGuess, write }], targets: new Map(spec.targets) };
  const found = new Map([['urn:uuid:p', 'Patient/stored-1'], ['urn:uuid:e', `Encounter/${encounterGuess}`]]);
  const patched = confirmedWrite(prepared, 1, encounterGuess, found)!;
  t.match(JSON.parse(patched.json), { subject: { reference: 'Patient/stored-1' }, meta: { versionId: '1' } });
  t.equal(patched.json.slice(patched.versionAt, patched.versionAt + 11), '"versionId"');
  t.equal(patched.index!.reference[0].targetId, 'stored-1');
  t.equal(confirmedWrite(prepared, 1, encounterGuess, new Map(spec.targets)), write, 'unchanged when every guess holds');
  t.equal(confirmedWrite(prepared, 1, 'another-id', new Map(spec.targets)), undefined, 'not when the entry is written under another id');
  t.equal(confirmedWrite(prepared, 1, encounterGuess, new Map([['urn:uuid:p', 'Patient/Stored-1']])), undefined, 'not when the real id would be folded in some row');
  t.equal(confirmedWrite(prepared, 1, encounterGuess, new Map()), undefined, 'not when the referenced entry got no id');
});

t.test('a SearchParameter stored meanwhile: what was prepared before it is written the ordinary way, and the thread prepares with it', async (t) => {
  const run = await server(1);
  t.teardown(() => run.app.close());
  const ctx = (run.app as unknown as { fhir: Context }).fhir;
  const mapper = new Hl7v2Mapper({ pool: ctx.prepare, rules: { audit: !!ctx.audit } });
  t.teardown(() => mapper.close());
  await mapper.started();
  await mapper.preparing();
  const before = await mapper.map(adt('A04', 100, 20), RECEIVED);
  await apply(run, adt('A04', 100, 20), before);
  t.equal((before as { prepared?: { stamp: number } }).prepared?.stamp, ctx.prepare!.stamp, 'prepared at the current stamp');
  const language = { resourceType: 'SearchParameter', id: 'lang', url: 'http://example.org/fhir/SearchParameter/lang', name: 'lang', status: 'active', description: 'test', code: 'lang', base: ['Patient'], type: 'token', expression: 'Patient.communication.language' };
  t.equal((await fhir(run.app, 'PUT', '/fhir/SearchParameter/lang', language)).status, 201);
  // mapped before the thread was rebuilt: prepared at the old stamp, or not at all
  const stale = await mapper.map(adt('A04', 101, 21), RECEIVED);
  t.not((stale as { prepared?: { stamp: number } }).prepared?.stamp, ctx.prepare!.stamp, 'not prepared at the new stamp yet');
  await apply(run, adt('A04', 101, 21), stale);
  await mapper.preparing();
  const fresh = await mapper.map(adt('A04', 102, 22), RECEIVED);
  t.equal((fresh as { prepared?: { stamp: number } }).prepared?.stamp, ctx.prepare!.stamp, 'prepared at the new stamp once rebuilt');
  await apply(run, adt('A04', 102, 22), fresh);
  const code = ((fresh as { mapped: { bundle: { entry: { resource: { communication?: { language: { coding: { code: string }[] } }[] } }[] } } }).mapped.bundle.entry[0].resource.communication?.[0].language.coding[0].code)!;
  const found = await fhir(run.app, 'GET', `/fhir/Patient?lang=${code}&_elements=identifier`);
  const mrns = found.body.entry.map((e: { resource: { identifier: { value: string }[] } }) => e.resource.identifier.find((i) => i.value.startsWith('MRN'))!.value).sort();
  t.same(mrns, ['MRN21', 'MRN22'], 'both patients written after it are indexed by it, the one before is not (no reindex)');
});

const engines: [string, (() => ResourceStore) | undefined][] = [
  ['SQLite', undefined],
  ['MongoDB layout on mingo', () => new MingoSearchStore()],
];

async function on(store: (() => ResourceStore) | undefined): Promise<Run> {
  if (!store) return server(0);
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', prepareThreads: 0 }), { store: store() });
  const writes: VersionWrite[] = [];
  (app as unknown as { fhir: Context }).fhir.repo.onCommit((w) => writes.push(...w));
  return { app, writes, answers: [] };
}

for (const [engine, store] of engines) t.test(`${engine}: applied in batches, whose look-ups that match nothing are found by one search a type (src/mapping/absent-matches.ts), the corpus and the feed are stored as one message at a time stores them`, async (t) => {
  const batched = await on(store);
  const single = await on(store);
  t.teardown(async () => {
    await batched.app.close();
    await single.app.close();
  });
  const searches = (run: Run) => {
    const repo = (run.app as unknown as { fhir: Context }).fhir.repo;
    const count = { n: 0 };
    const original = repo.search.bind(repo);
    repo.search = (...a) => {
      count.n++;
      return original(...a);
    };
    return count;
  };
  const [batchedSearches, singleSearches] = [searches(batched), searches(single)];
  // the corpus in batches of 6; the feed (registrations, then updates of those patients and a
  // message sent twice) as one batch: later messages must see what earlier ones wrote
  const corpus = FIXTURES.map(bytesOf);
  const batches = [...Array.from({ length: Math.ceil(corpus.length / 6) }, (_, i) => corpus.slice(6 * i, 6 * i + 6)), feed()];
  for (const batch of batches) {
    const ctx = (batched.app as unknown as { fhir: Context }).fhir;
    const results = await ingestBatch({ ...req }, ctx, batch.map((bytes) => ({ bytes })), undefined, batch.map((bytes) => mapHere(bytes, RECEIVED)));
    batched.answers.push(...results.map((r) => `${ack(r.ack)}\n${JSON.stringify({ status: r.response.status, body: r.response.body, patient: r.patient })}`));
    for (const bytes of batch) await apply(single, bytes, mapHere(bytes, RECEIVED));
  }
  t.equal(batched.writes.length, single.writes.length, 'as many versions written');
  const [normBatched, normSingle] = [new Normalizer(), new Normalizer()];
  for (const w of batched.writes) normBatched.name(w.id);
  for (const w of single.writes) normSingle.name(w.id);
  const a = batched.writes.map((w) => normBatched.write(w));
  const b = single.writes.map((w) => normSingle.write(w));
  for (let i = 0; i < Math.max(a.length, b.length); i++) t.same(a[i], b[i], `version ${i} (${single.writes[i]?.resourceType})`);
  const answers = (run: Run, norm: Normalizer) => run.answers.map((x) => norm.text(x).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID'));
  const [ab, as] = [answers(batched, normBatched), answers(single, normSingle)];
  t.equal(ab.length, as.length);
  for (let i = 0; i < as.length; i++) t.equal(ab[i], as[i], `answer ${i}`);
  t.ok(as.some((x) => x.includes('"duplicate"')), 'the message sent twice is answered as a duplicate');
  t.ok(batchedSearches.n < singleSearches.n / 2, `${batchedSearches.n} searches in batches, ${singleSearches.n} one message at a time`);
});
