// The validation corpus (corpus/negative.json, corpus/positive.json) through the two ways a
// developer validates: `POST [type]/$validate` on the server and `migfhir validate` on an NDJSON
// file (one run per profile, every case a line). Each negative case must get its issue (severity,
// FHIRPath expression, message fragment) from both, each positive case no error from either;
// the counts per category are printed.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssueInput } from '../../src/fhir/errors.ts';
import { validateCommand } from '../../src/cli/validate.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { instanceOf, NEGATIVE, perCategory, POSITIVE, type NegativeCase, type PositiveCase } from './corpus/corpus.ts';

type Case = NegativeCase | PositiveCase;
const negative = (c: Case): c is NegativeCase => 'severity' in c;

function verdict(t: Test, via: string, c: Case, issues: IssueInput[]) {
  if (!negative(c)) {
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    t.same(errors.map((i) => `${i.expression?.[0]}: ${i.diagnostics.slice(0, 160)}`), [], `${via}: ${c.category}: ${c.example}${c.profile ? ` against ${c.profile}` : ''} has no error`);
    return;
  }
  const hit = issues.some((i) => i.severity === c.severity && i.expression?.[0] === c.expression && (!c.message || i.diagnostics.includes(c.message)));
  const label = `${via}: ${c.category}: ${c.name}: ${c.severity} at ${c.expression}${c.message ? ` (${c.message})` : ''}`;
  if (hit) t.pass(label);
  else t.fail(label, { found: issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics.slice(0, 160)}`) });
}

const cases: Case[] = [...NEGATIVE, ...POSITIVE];

t.test('every category is covered, with negative and positive cases', async (t) => {
  const neg = perCategory(NEGATIVE);
  const pos = perCategory(POSITIVE);
  t.comment(`negative cases per category: ${JSON.stringify(neg)}`);
  t.comment(`positive cases per category: ${JSON.stringify(pos)}`);
  for (const category of ['bundle', 'extension', 'invariant', 'datatype', 'questionnaire', 'profile', 'format', 'structure', 'terminology', 'reference', 'cardinality', 'contained']) {
    t.ok(neg[category] > 0 && pos[category] > 0, `${category}: ${neg[category] ?? 0} negative, ${pos[category] ?? 0} positive`);
  }
});

t.test('$validate gives each case its verdict', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const c of cases) {
    const r = instanceOf(c);
    const query = c.profile ? `?profile=${encodeURIComponent(c.profile)}` : '';
    const res = await fhir(app, 'POST', `/fhir/${String(r.resourceType)}/$validate${query}`, r);
    if (res.status !== 200) {
      t.fail(`$validate: ${c.category}: ${'name' in c ? c.name : c.example}: HTTP ${res.status}`, { body: res.raw.slice(0, 300) });
      continue;
    }
    verdict(t, '$validate', c, res.body.issue ?? []);
  }
});

t.test('migfhir validate gives each case its verdict, line by line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-corpus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // one NDJSON file per profile (the CLI's --profile applies to every resource it reads)
  const groups = new Map<string, Case[]>();
  for (const c of cases) groups.set(c.profile ?? '', [...(groups.get(c.profile ?? '') ?? []), c]);
  let n = 0;
  for (const [profile, group] of groups) {
    const file = join(dir, `cases-${n++}.ndjson`);
    writeFileSync(file, `${group.map((c) => JSON.stringify(instanceOf(c))).join('\n')}\n`);
    let text = '';
    const out = { write: (s: string) => ((text += s), true), isTTY: false } as any;
    const err = { write: () => true, isTTY: false } as any;
    await validateCommand([file, '--format', 'json', ...(profile ? ['--profile', profile] : [])], out, err);
    const report = new Map((JSON.parse(text) as { file: string; issues: IssueInput[] }[]).map((r) => [r.file, r.issues]));
    group.forEach((c, i) => verdict(t, 'migfhir validate', c, report.get(`${file}:${i + 1}`) ?? []));
  }
});
