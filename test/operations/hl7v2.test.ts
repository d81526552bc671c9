// $hl7v2-ingest against a real (in-memory SQLite) store: every fixture applied, re-sending
// changes nothing, updates merge instead of wiping, A40 links records without deleting any,
// broken messages store nothing, and Patient/$hl7v2-export gives the message back.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { bytesOf, evn, FIXTURES, msh, mrg, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';
import type { FastifyInstance } from 'fastify';

const ER7 = 'x-application/hl7-v2+er7';

async function post(app: FastifyInstance, body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, ...headers }, payload: typeof body === 'string' ? Buffer.from(body.replace(/\n/g, '\r')) : body });
  let json: any;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, raw: res.body, headers: res.headers };
}

async function counts(app: FastifyInstance) {
  const n = async (type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total as number;
  return { patients: await n('Patient'), encounters: await n('Encounter'), provenance: await n('Provenance') };
}

t.test('every fixture is applied or refused as it should; re-sending them all changes nothing', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const f of FIXTURES) {
    const res = await post(app, bytesOf(f));
    if (f.expect.ack) {
      t.equal(res.body.resourceType, 'OperationOutcome', `${f.name}: OperationOutcome`);
      t.ok(res.status === 400 || res.status === 422, `${f.name}: ${res.status}`);
      t.same(res.body.issue[0].expression, [f.expect.errorAt]);
    } else {
      t.equal(res.status, 200, `${f.name}: 200`);
      t.equal(res.body.type, 'transaction-response', f.name);
    }
  }
  const before = await counts(app);
  const refused = FIXTURES.filter((f) => f.expect.ack).length;
  t.equal(before.provenance, FIXTURES.length - refused, 'one Provenance per applied message, none for refused ones');
  for (const f of FIXTURES.filter((x) => !x.expect.ack)) {
    const again = await post(app, bytesOf(f));
    t.equal(again.status, 200);
    t.equal(again.body.issue?.[0].code, 'duplicate', `${f.name}: recognised as a re-send`);
  }
  t.same(await counts(app), before, 're-sending created nothing');
  const history = await fhir(app, 'GET', '/fhir/Patient/_history?_summary=count');
  const historyAgain = await fhir(app, 'GET', '/fhir/Patient/_history?_summary=count');
  t.equal(history.body.total, historyAgain.body.total);
});

t.test('the same content under a new control id updates the same patient and encounter', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const msg = (id: string, family: string) => [msh('A01', id), evn('A01'), pid({ ids: 'MRN1^^^ATTIKON^MR~12038801234^^^AMKA', names: `${family}^Eleni`, dob: '19880312', sex: 'F', phone: '+306912345678^PRN^CP' }), pv1({ cls: 'I', visit: 'V1^^^ATTIKON' })].join('\r');
  t.equal((await post(app, msg('M1', 'Papadopoulou'))).status, 200);
  const second = await post(app, msg('M2', 'Papadopoulou'));
  t.same(second.body.entry.slice(0, 2).map((e: any) => e.response.status), ['200 OK', '200 OK'], 'patient and encounter matched');
  t.same(await counts(app), { patients: 1, encounters: 1, provenance: 2 });
  const p = (await fhir(app, 'GET', '/fhir/Patient')).body.entry[0].resource;
  t.equal(p.meta.versionId, '1', 'identical content wrote no new version');
  // an A08 that carries only the name keeps the phone; the AMKA-only message finds the same person
  await post(app, [msh('A08', 'M3'), evn('A08'), pid({ ids: '12038801234^^^AMKA', names: 'Papadopoulou-Nikolaou^Eleni' })].join('\r'));
  const updated = (await fhir(app, 'GET', `/fhir/Patient/${p.id}`)).body;
  t.equal(updated.name[0].family, 'Papadopoulou-Nikolaou');
  t.equal(updated.telecom[0].value, '+306912345678', 'an element the message did not carry is kept');
  t.same(updated.identifier.map((i: any) => i.value).sort(), ['12038801234', 'MRN1'], 'identifiers are united, never dropped');
  t.equal(updated.birthDate, '1988-03-12');
  // HL7 "" deletes
  await post(app, `MSH|^~\\&|HIS|ATTIKON|||20240101||ADT^A31|M4|P|2.5\rPID|1||MRN1^^^ATTIKON^MR||Papadopoulou-Nikolaou^Eleni||||||||""`);
  t.notOk((await fhir(app, 'GET', `/fhir/Patient/${p.id}`)).body.telecom, 'PID-13 "" removed the phone');
  // A03 discharges the same encounter
  await post(app, [msh('A03', 'M5'), evn('A03'), pid({ ids: 'MRN1^^^ATTIKON^MR', names: 'Papadopoulou-Nikolaou^Eleni' }), pv1({ cls: 'I', visit: 'V1^^^ATTIKON', discharge: '20240315120000+0200' })].join('\r'));
  const enc = (await fhir(app, 'GET', '/fhir/Encounter')).body;
  t.equal(enc.total, 1);
  t.equal(enc.entry[0].resource.status, 'finished');
  t.equal(enc.entry[0].resource.period.end, '2024-03-15T12:00:00+02:00');
  const prov = (await fhir(app, 'GET', `/fhir/Provenance?patient=Patient/${p.id}`)).body;
  t.equal(prov.total, 5, 'a Provenance per message, found through the patient');
});

t.test('A40 merges PAAYPA into AMKA with links, deleting nothing; later PAAYPA messages reach the survivor', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await post(app, [msh('A04', 'P1'), evn('A04'), pid({ ids: 'PA-1^^^PAAYPA', names: 'Haidari^Ali', dob: '2008', sex: 'M' }), pv1({ cls: 'O', visit: 'OP1^^^SAMOS' })].join('\r'));
  await post(app, [msh('A28', 'P2'), evn('A28'), pid({ ids: '01010812345^^^AMKA', names: 'Haidari^Ali', dob: '20080101', sex: 'M' })].join('\r'));
  const merged = await post(app, [msh('A40', 'P3'), evn('A40'), pid({ ids: '01010812345^^^AMKA', names: 'Haidari^Ali' }), mrg('PA-1^^^PAAYPA')].join('\r'));
  t.equal(merged.status, 200);
  const find = async (q: string) => (await fhir(app, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(q)}`)).body.entry[0].resource;
  const amka = await find('https://migfhir.org/fhir/sid/gr-amka|01010812345');
  const paaypa = await find('https://migfhir.org/fhir/sid/gr-paaypa|PA-1');
  t.same(amka.link, [{ other: { reference: `Patient/${paaypa.id}` }, type: 'replaces' }]);
  t.same(paaypa.link, [{ other: { reference: `Patient/${amka.id}` }, type: 'replaced-by' }]);
  t.equal(paaypa.active, false);
  t.equal(paaypa.name[0].family, 'Haidari', 'the merged record keeps its data');
  t.equal((await counts(app)).encounters, 1, 'the encounter is still there');
  // a late message with the old PAAYPA number updates the surviving AMKA record
  const late = await post(app, [msh('A08', 'P4'), evn('A08'), pid({ ids: 'PA-1^^^PAAYPA', names: 'Haidari^Ali', dob: '20080101', sex: 'M', lang: 'fas' })].join('\r'));
  t.match(late.body.entry[0].response.location, `Patient/${amka.id}/`);
  const after = await find('https://migfhir.org/fhir/sid/gr-amka|01010812345');
  t.equal(after.communication[0].language.coding[0].code, 'fa');
  t.same(after.identifier.map((i: any) => i.value), ['01010812345'], 'the old number stays on the merged record only');
  t.equal((await counts(app)).patients, 2);
  // A40 naming a prior patient this server never saw still records the merge: an inactive
  // record with MRG's identifiers, replaced-by the survivor, which a later message reaches
  const unknown = await post(app, [msh('A40', 'P5'), evn('A40'), pid({ ids: '01010812345^^^AMKA', names: 'Haidari^Ali' }), mrg('OLD-7^^^PAAYPA')].join('\r'), { accept: ER7 });
  t.match(unknown.raw, /MSA\|AA\|P5/);
  t.equal((await counts(app)).patients, 3);
  const recorded = await find('https://migfhir.org/fhir/sid/gr-paaypa|OLD-7');
  t.equal(recorded.active, false);
  t.same(recorded.link, [{ other: { reference: `Patient/${amka.id}` }, type: 'replaced-by' }]);
  const survivor = await find('https://migfhir.org/fhir/sid/gr-amka|01010812345');
  t.ok(survivor.link.some((l: any) => l.type === 'replaces' && l.other.reference === `Patient/${recorded.id}`), 'the survivor replaces the recorded record');
  t.same(survivor.identifier.map((i: any) => i.value), ['01010812345'], 'the merged number is not copied onto the survivor');
  const later = await post(app, [msh('A08', 'P6'), evn('A08'), pid({ ids: 'OLD-7^^^PAAYPA', names: 'Haidari^Ali' })].join('\r'));
  t.match(later.body.entry[0].response.location, `Patient/${amka.id}/`, 'a later message with the merged number reaches the survivor');
  t.equal((await counts(app)).patients, 3);
});

t.test('identifiers of two different people in one PID: refused, nothing stored', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await post(app, [msh('A28', 'D1'), pid({ ids: 'A1^^^ATTIKON', names: 'One^A' })].join('\r'));
  await post(app, [msh('A28', 'D2'), pid({ ids: 'B1^^^ATTIKON', names: 'Two^B' })].join('\r'));
  const res = await post(app, [msh('A08', 'D3'), pid({ ids: 'A1^^^ATTIKON~B1^^^ATTIKON', names: 'Both^C' }), pv1({ cls: 'I', visit: 'VX^^^ATTIKON' })].join('\r'));
  t.equal(res.status, 412);
  t.same(await counts(app), { patients: 2, encounters: 0, provenance: 2 });
});

t.test('malformed input: OperationOutcome or AR/AE ACK, never a crash, nothing stored', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cases: [string, Buffer][] = [
    ['empty body', Buffer.alloc(0)],
    ['binary noise', Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0b, 0x1c, 0x0d])],
    ['MSH only', Buffer.from('MSH|^~\\&|')],
    ['truncated message', bytesOf(FIXTURES[0]).subarray(0, 60)],
    ['10 MB of text', Buffer.alloc(10 * 1024 * 1024, 0x41)],
    ['10 MB segment', Buffer.concat([Buffer.from(`${msh('A28', 'BIG')}\rPID|1||X^^^A||`), Buffer.alloc(10 * 1024 * 1024, 0x41)])],
    ['undeclared Latin-1 bytes', Buffer.from(`${msh('A28', 'L1', { charset: '' })}\rPID|1||X^^^A||M\xfcller^J`, 'latin1')],
    ['UTF-16 declared', Buffer.from(`${msh('A28', 'U16', { charset: 'UNICODE UTF-16' })}\rPID|1||X^^^A||A^B`)],
  ];
  for (const [name, body] of cases) {
    const res = await post(app, body);
    t.ok(res.status >= 400 && res.status < 500, `${name}: ${res.status}`);
    t.equal(res.body?.resourceType, 'OperationOutcome', `${name}: OperationOutcome`);
    const ack = await post(app, body, { accept: ER7 });
    t.match(ack.raw, /MSA\|A[RE]\|/, `${name}: AR/AE ACK`);
  }
  t.equal((await post(app, '{"resourceType":"Patient"}', { 'content-type': 'application/fhir+json' })).status, 415);
  t.same(await counts(app), { patients: 0, encounters: 0, provenance: 0 });
});

t.test('HL7 over HTTP: Accept x-application/hl7-v2+er7 answers the ACK; warnings become ERR W', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const f = FIXTURES.find((x) => x.name.startsWith('A01 with unmapped OBX'))!;
  const res = await post(app, bytesOf(f), { accept: ER7 });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /x-application\/hl7-v2\+er7/);
  t.match(res.raw, /^MSH\|\^~\\&\|MIGFHIR\|EU\|HIS\|ATTIKON\|/);
  t.match(res.raw, /MSA\|AA\|WARN-0001/);
  t.match(res.raw, /ERR\|\|OBX\^1\|0\^\^HL70357\|W/);
  const json = await post(app, bytesOf({ ...f, segments: f.segments.map((s) => s.replace('WARN-0001', 'WARN-0002')) }));
  t.same(json.body.entry[0].response.outcome.issue.map((i: any) => i.expression[0]).sort(), ['OBX', 'PID-10', 'ZCA']);
});

t.test('Patient/$hl7v2-export writes ADT^A28/A31 that ingests back to the same patient', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const f = FIXTURES[0];
  await post(app, bytesOf(f));
  const p = (await fhir(app, 'GET', '/fhir/Patient')).body.entry[0].resource;
  const res = await app.inject({ method: 'GET', url: `/fhir/Patient/${p.id}/$hl7v2-export?event=A31` });
  t.equal(res.statusCode, 200);
  t.match(res.body, /^MSH\|\^~\\&\|migfhir\|.*\|ADT\^A31\^ADT_A05\|/);
  t.match(res.body, /PID\|1\|\|12038801234\^\^\^AMKA\^SS/);
  t.match(res.body, /Παπαδοπούλου\^Ελένη\^\^\^\^\^L\^I/);
  const again = await post(app, res.body);
  t.equal(again.body.entry[0].response.status, '200 OK', 'the same patient, unchanged');
  t.equal((await fhir(app, 'GET', `/fhir/Patient/${p.id}`)).body.meta.versionId, '1');
  t.equal((await app.inject({ method: 'GET', url: `/fhir/Patient/${p.id}/$hl7v2-export?event=A01` })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient/nope/$hl7v2-export' })).statusCode, 404);
});

t.test('the CapabilityStatement names the adapter and its operations', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cs = (await fhir(app, 'GET', '/fhir/metadata')).body;
  t.match(cs.rest[0].documentation, /Adapters: hl7v2-adt 1\.0\.0/);
  t.ok(cs.rest[0].operation.some((o: any) => o.name === 'hl7v2-ingest'));
  t.ok(cs.rest[0].resource.find((r: any) => r.type === 'Patient').operation.some((o: any) => o.name === 'hl7v2-export'));
});

/** The request the MLLP listener applies its batches with. */
const batchRequest = () => ({ method: 'POST' as const, baseUrl: 'http://test.local/fhir', query: Object.create(null), headers: {} });

t.test('group commit: one failing message in a batch rolls back only itself; the others are applied in order', async (t) => {
  const { ingestBatch } = await import('../../src/operations/hl7v2.ts');
  const app = await testApp();
  t.teardown(() => app.close());
  const texts = [
    [msh('A28', 'G1'), pid({ ids: 'G1^^^ATTIKON', names: 'One^A' })].join('\r'),
    [msh('A28', 'G9'), pid({ ids: 'G9^^^ATTIKON', names: 'Nine^B' })].join('\r'),
    [msh('A08', 'G2'), pid({ ids: 'G1^^^ATTIKON~G9^^^ATTIKON', names: 'Both^AB' })].join('\r'), // fails while applying: two people
    'not HL7 at all', // fails while mapping
    [msh('A08', 'G3'), pid({ ids: 'G1^^^ATTIKON', names: 'One-Updated^A' })].join('\r'),
    [msh('A28', 'G1'), pid({ ids: 'G1^^^ATTIKON', names: 'One^A' })].join('\r'), // re-send of G1 in the same batch
  ];
  const results = await ingestBatch(batchRequest(), app.fhir, texts.map((s) => ({ bytes: Buffer.from(s) })));
  t.same(results.map((r) => r.ackCode), ['AA', 'AA', 'AE', 'AR', 'AA', 'AA']);
  t.equal(results[5].response.body && (results[5].response.body as any).issue?.[0].code, 'duplicate');
  const patients = (await fhir(app, 'GET', '/fhir/Patient?_sort=_id')).body;
  t.equal(patients.total, 2);
  const one = patients.entry.map((e: any) => e.resource).find((r: any) => r.identifier[0].value === 'G1');
  t.equal(one.name[0].family, 'One-Updated', 'applied in order');
  t.notOk(patients.entry.some((e: any) => e.resource.name[0].family === 'Both'), 'the failed message left nothing');
  t.equal((await counts(app)).provenance, 3);
});

t.test('group commit: after a rollback each message is applied as it was mapped, with the time it was received', async (t) => {
  const { ingestBatch } = await import('../../src/operations/hl7v2.ts');
  const { mapHere } = await import('../../src/transport/hl7v2-mapper.ts');
  const app = await testApp();
  t.teardown(() => app.close());
  const texts = [
    [msh('A28', 'R1'), pid({ ids: 'R1^^^ATTIKON', names: 'One^A' })].join('\r'),
    [msh('A28', 'R9'), pid({ ids: 'R9^^^ATTIKON', names: 'Nine^B' })].join('\r'),
    [msh('A08', 'R2'), pid({ ids: 'R1^^^ATTIKON~R9^^^ATTIKON', names: 'Both^AB' })].join('\r'), // fails while applying
  ];
  // as the MLLP listener's mapping thread maps them, each when it arrived
  const received = ['2026-12-07T09:00:00.001Z', '2026-12-07T09:00:00.002Z', '2026-12-07T09:00:00.003Z'];
  const bytes = texts.map((s) => Buffer.from(s));
  const results = await ingestBatch(batchRequest(), app.fhir, bytes.map((b) => ({ bytes: b })), undefined, bytes.map((b, i) => mapHere(b, received[i])));
  t.same(results.map((r) => r.ackCode), ['AA', 'AA', 'AE'], 'the batch was rolled back and each message applied alone');
  const recorded = (await fhir(app, 'GET', '/fhir/Provenance?_sort=recorded')).body.entry.map((e: any) => e.resource.recorded);
  t.same(recorded, received.slice(0, 2), 'each Provenance has the time its message was received');
});
