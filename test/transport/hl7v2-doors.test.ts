// Malformed messages get the same answer over HTTP ($hl7v2-ingest, Accept: ER7) and MLLP: the
// same MSA code, the same ERR codes and locations, and nothing stored on either door.
import t from 'tap';
import { mllpClient } from '../helpers/mllp-client.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { MAX_FIELD_CHARS } from '../../src/mapping/hl7v2/er7.ts';
import { bytesOf, FIXTURES, msh, pid } from '../mapping/hl7v2/fixtures.ts';

const MALFORMED: { name: string; bytes: Buffer }[] = [
  ...FIXTURES.filter((f) => f.expect.ack).map((f) => ({ name: f.name, bytes: bytesOf(f) })),
  { name: 'oversized field', bytes: Buffer.from(`${msh('A28', 'BIG-1')}\r${pid({ ids: 'X1^^^ATTIKON', names: `${'A'.repeat(MAX_FIELD_CHARS + 1)}^B` })}\r`) },
  { name: 'cut inside a UTF-8 character', bytes: Buffer.from(`${msh('A28', 'CUT-1')}\rPID|1||X1^^^ATTIKON||Ωμέγα^Δ`).subarray(0, -1) },
  { name: 'cut inside MSH before the version', bytes: Buffer.from(`${msh('A28', 'CUT-2')}`.slice(0, 60)) },
  { name: 'segment cut inside its name', bytes: Buffer.from(`${msh('A28', 'CUT-3')}\r${pid({ ids: 'X1^^^ATTIKON', names: 'Doe^J' })}\rPV`) },
  { name: 'segment cut inside a date', bytes: Buffer.from(`${msh('A28', 'CUT-4')}\rPID|1||X1^^^ATTIKON||Doe^J||198003`.slice(0, -1)) },
];

/** What must agree: MSA-1 and each ERR's location and 0357 code (control ids differ). */
function answer(ack: string): string {
  const segs = ack.split('\r');
  const msa = segs.find((s) => s.startsWith('MSA|'))?.split('|')[1];
  const errs = segs.filter((s) => s.startsWith('ERR|')).map((s) => s.split('|').slice(2, 5).join('|'));
  return [msa, ...errs].join(' ; ');
}

t.test('every malformed message: AE or AR, nothing stored, identically over HTTP and MLLP', async (t) => {
  const app = await testApp({ mllpPort: 0, mllpHost: '127.0.0.1', mllpMaxBytes: 1024 * 1024 });
  t.teardown(() => app.close());
  const mllp = await mllpClient(app.mllp!.port);
  t.teardown(() => mllp.close());
  for (const m of MALFORMED) {
    const http = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': 'x-application/hl7-v2+er7', accept: 'x-application/hl7-v2+er7' }, payload: m.bytes });
    const overMllp = await mllp.send(m.bytes);
    const overHttp = answer(http.body);
    t.match(overHttp, /^A[ER] ; /, `${m.name}: refused over HTTP (${overHttp})`);
    t.equal(answer(overMllp ?? ''), overHttp, `${m.name}: the same answer over MLLP`);
    t.ok(http.statusCode >= 400 && http.statusCode < 500, `${m.name}: HTTP ${http.statusCode}`);
  }
  for (const type of ['Patient', 'Encounter', 'Provenance']) t.equal((await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total, 0, `no ${type} stored`);
});
