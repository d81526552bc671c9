// Ingest of synthetic patient transactions (~300 entries each, urn:uuid references, as a
// Synthea patient arrives) into a real server on the embedded engine, in resources/s, and its
// ratio to the single-resource create rate measured in the same run.
//   node scripts/bench/transaction.ts [--patients 40] [--creates 3000]
import { startServer } from '../lib/server-process.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { numberOption } from '../lib/args.ts';

const PATIENTS = numberOption('patients', 40);
const CREATES = numberOption('creates', 3000);
const CONCURRENCY = 4;

async function startTxServer(dataDir: string): Promise<{ base: string; stop: () => void }> {
  const { child, base } = await startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dataDir, MIGFHIR_LOG_LEVEL: 'warn' });
  return { base, stop: () => child.kill('SIGTERM') };
}

function patientTransaction(n: number) {
  const p = `urn:uuid:${randomUUID()}`;
  const entry: unknown[] = [
    {
      fullUrl: p,
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: 'http://hl7.it/sid/stp', value: `STP${n}-${randomUUID().slice(0, 8)}` }],
        name: [{ family: ['Haddad', 'Müller', 'Özdemir', 'Nguyễn', 'Ёлкина'][n % 5], given: ['Amal'] }],
        gender: n % 2 ? 'female' : 'male',
        birthDate: `19${60 + (n % 40)}-0${1 + (n % 9)}`,
      },
      request: { method: 'POST', url: 'Patient' },
    },
  ];
  for (let e = 0; e < 50; e++) {
    const enc = `urn:uuid:${randomUUID()}`;
    entry.push({
      fullUrl: enc,
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: p },
        period: { start: `2024-0${1 + (e % 9)}-1${e % 10}T10:00:00Z`, end: `2024-0${1 + (e % 9)}-1${e % 10}T11:00:00Z` },
      },
      request: { method: 'POST', url: 'Encounter' },
    });
    for (let o = 0; o < 5; o++) {
      entry.push({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
          code: { coding: [{ system: 'http://loinc.org', code: ['8867-4', '8480-6', '8462-4', '29463-7', '8302-2'][o], display: 'vital' }] },
          subject: { reference: p },
          encounter: { reference: enc },
          effectiveDateTime: `2024-0${1 + (e % 9)}-1${e % 10}T10:30:00Z`,
          valueQuantity: { value: 60 + o * 10 + (e % 7), unit: 'unit', system: 'http://unitsofmeasure.org', code: '1' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-tx-'));
  const server = await startTxServer(dir);
  try {
    // single-resource creates, CONCURRENCY at a time
    const body = JSON.stringify(patientTransaction(0).entry[0] && (patientTransaction(0).entry[0] as { resource: unknown }).resource);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CREATES) {
          const r = await fetch(`${server.base}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body });
          if (r.status !== 201) throw new Error(`create ${r.status}`);
          await r.arrayBuffer();
        }
      }),
    );
    const createRate = CREATES / ((performance.now() - t0) / 1000);

    const bundles = Array.from({ length: PATIENTS }, (_, i) => JSON.stringify(patientTransaction(i + 1)));
    const perBundle = (JSON.parse(bundles[0]).entry as unknown[]).length;
    const t1 = performance.now();
    for (const b of bundles) {
      const r = await fetch(server.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: b });
      if (r.status !== 200) throw new Error(`transaction ${r.status}: ${(await r.text()).slice(0, 300)}`);
      await r.arrayBuffer();
    }
    const secs = (performance.now() - t1) / 1000;
    const txRate = (PATIENTS * perBundle) / secs;
    const rows = [
      ['single-resource create', `${createRate.toFixed(0)} resources/s`, `${CREATES} POST /Patient, ${CONCURRENCY} concurrent`],
      ['transaction ingest', `${txRate.toFixed(0)} resources/s`, `${PATIENTS} transactions of ${perBundle} entries, ${(secs / PATIENTS * 1000).toFixed(0)} ms each`],
      ['ratio ingest / create', (txRate / createRate).toFixed(2), 'target: ingest ≥ 3,000 resources/s'],
    ];
    if (process.argv.includes('--json')) console.log(JSON.stringify({ createRate, txRate, perBundle, patients: PATIENTS }));
    else for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 26 : 22)).join(' '));
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
