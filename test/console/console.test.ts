// The web console (src/http/console.ts, src/console/*) in Debian's chromium: the server with
// authorization on, the demo population and a few fixtures, and each of the issue's users at
// work — the clinician (a record across borders, with and without the migration-data scope),
// the registrar ($match and a confirmed $merge), the profile developer ($validate's issues on
// their lines), the integration engineer (the message log with a refused message, its replay
// once the cause is fixed, a new message). Screenshots of
// every page go to test-artifacts/console.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { consolePolicy } from '../../src/http/console.ts';
import { seed } from '../../src/cli/seed.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { launchChromium, NO_CHROMIUM, screenshot } from '../helpers/browser.ts';
import { AR_0001, CONSOLE_FIXTURES, DUPLICATE_A08, DUPLICATE_A28, PERSIAN_NAME, URDU_NAME } from './fixtures.ts';

const ER7 = 'x-application/hl7-v2+er7; charset=utf-8';

const ALL = 'system/*.cruds migfhir/migration-data.read migfhir/integration.read';
const WITHOUT_MIGRATION_DATA = 'system/*.cruds';

t.test('the console is served as static files with a strict Content-Security-Policy', async (t) => {
  const { app } = await authorizedApp(t, { id: 'console', scope: ALL });
  const page = await app.inject({ method: 'GET', url: '/console' });
  t.equal(page.statusCode, 200, 'no token needed: the files hold no data');
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, '<meta name="fhir-base" content="/fhir">', 'the page learns the FHIR base path');
  const csp = String(page.headers['content-security-policy']);
  t.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, 'scripts from this origin, and the import map by its hash');
  t.notMatch(csp, /unsafe-inline|unsafe-eval/);
  t.match(csp, "default-src 'none'");
  t.match(csp, "connect-src 'self'");
  t.equal(csp, consolePolicy(page.body), 'the hash is of the import map the page carries');
  t.notMatch(page.body.replace(/<script type="importmap">[^<]*<\/script>/, ''), /<script(?![^>]*\bsrc=)/, 'no other inline script');
  const preact = await app.inject({ method: 'GET', url: '/console/vendor/preact.mjs' });
  t.equal(preact.statusCode, 200);
  t.match(preact.headers['content-type'], /^text\/javascript/);
  t.notMatch(preact.body, 'sourceMappingURL', 'no pointer to a source map that is not served');
  t.equal((await app.inject({ method: 'GET', url: '/console/app.js' })).statusCode, 200);
  const sources = readdirSync(new URL('../../src/console/', import.meta.url)).filter((f) => f.endsWith('.js'));
  for (const file of sources) {
    t.notMatch(readFileSync(new URL(`../../src/console/${file}`, import.meta.url), 'utf8'), /innerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write/, `${file} never inserts text as HTML`);
  }
  t.equal((await app.inject({ method: 'GET', url: '/console/../package.json' })).statusCode, 404, 'only the console files');
  t.equal((await app.inject({ method: 'GET', url: '/console/vendor/../../src/app.ts' })).statusCode, 404);
});

t.test('the four pages in chromium', { skip: NO_CHROMIUM }, async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'console', scope: ALL }, { config: { installIg: true } });
  const full = await bearer(ALL);
  const failures = await seed(async (step, headers, payload) => {
    const res = await app.inject({ method: step.method, url: `/fhir/${step.url}`, headers: { ...headers, ...full }, payload });
    return { status: res.statusCode, text: res.body };
  });
  t.same(failures, [], 'the demo population loads');
  t.equal((await fhir(app, 'POST', '/fhir', CONSOLE_FIXTURES, full)).status, 200, 'and the fixtures');
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  const page: Page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    // refused requests (401 without a token, 422 …) are logged by the browser itself
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  const token = (authorization: { authorization: string }) => authorization.authorization.replace(/^Bearer /, '');
  const useToken = async (value: string) => {
    await page.getByLabel('Bearer token').fill(value);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.waitForFunction((t) => sessionStorage.getItem('migfhir.console.token') === t, value);
  };
  // a new document each time (a change of hash alone would keep the page already shown)
  let visit = 0;
  const open = async (hash: string) => {
    await page.goto(`${origin}/console?visit=${++visit}#/${hash}`);
  };
  // a card of the record (the IPS has sections of the same names)
  const card = (name: string) => page.locator('.grid').getByRole('region', { name, exact: true });

  await t.test('without a token the page says what is missing', async (t) => {
    await open('patient');
    await page.getByRole('alert').first().waitFor();
    t.match(await page.getByRole('alert').first().textContent(), /Not allowed \(401/);
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content', 'the first Tab reaches the skip link');
    await page.keyboard.press('Enter');
    t.equal(await page.evaluate('document.activeElement?.id'), 'main', 'which moves the focus to the main landmark');
    t.equal(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').count(), 4, 'a link to each page');
  });

  await t.test('clinician: a record without the migration-data scope says what is withheld', async (t) => {
    await useToken(token(await bearer(WITHOUT_MIGRATION_DATA)));
    t.equal(await page.evaluate('localStorage.length'), 0, 'the token is not kept beyond the tab');
    t.same(await page.context().cookies(), [], 'nor in a cookie');
    await open('patient/demo-amal');
    const note = page.getByRole('status').filter({ hasText: 'Withheld' });
    await note.waitFor();
    t.match(await note.textContent(), /migfhir\/migration-data\.read/, 'the note names the scope');
    const journey = card('Migration journey');
    t.match(await journey.textContent(), /Withheld/);
    t.notMatch(await page.locator('main').textContent(), /Syria|Türkiye.*2025-11-20/, 'no country of the journey on the page');
    t.match(await card('Conditions').textContent(), 'Diabetes mellitus type 2', 'the clinical record is there');
    await page.getByRole('region', { name: 'International Patient Summary' }).getByRole('heading', { name: 'Active Problems' }).waitFor();
    await screenshot(page, 'clinician-withheld');
  });

  await t.test('clinician: the whole record with the scope', async (t) => {
    await useToken(token(full));
    await open('patient/demo-amal');
    await page.getByRole('region', { name: 'International Patient Summary' }).getByRole('heading', { name: 'Active Problems' }).waitFor();
    t.equal(await page.getByRole('status').filter({ hasText: 'Withheld' }).count(), 0, 'nothing withheld');
    const journey = await card('Migration journey').textContent();
    t.match(journey, /Country of origin\s*Syria/);
    t.match(journey, /Transit\s*Türkiye 2025-11-20 – 2026-02-25/);
    const identities = await card('Identities').textContent();
    t.match(identities, 'PAAYPA (Greece, asylum applicant)', 'identifier systems by name');
    t.match(await card('Languages').textContent(), /Arabic \(preferred\)[\s\S]*Interpreter: needed/);
    const timeline = card('Encounters by country');
    t.same(await timeline.getByRole('heading', { level: 3 }).allTextContents(), ['Greece', 'Türkiye'], 'encounters grouped by country, latest first');
    t.match(await timeline.textContent(), /Migrant health centre, Izmir/);
    t.match(await card('Medications').textContent(), 'metformin');
    t.match(await card('Immunizations').textContent(), 'MMR');
    t.match(await card('Allergies').textContent(), 'penicillin');
    const screening = card('Screening scores');
    t.match(await screening.getByRole('row', { name: /PHQ-9/ }).textContent(), /PHQ-9 total score\s*12\s*Moderate alert/, 'score, interpretation and alert');
    t.match(await card('Referrals').textContent(), /Trauma-focused psychotherapy\s*active/);
    const ips = await page.getByRole('region', { name: 'International Patient Summary' }).textContent();
    t.match(ips, /Results[\s\S]*Hemoglobin A1c/, 'the IPS rendered section by section');
    await screenshot(page, 'clinician-record');
  });

  await t.test('clinician: names in Arabic, Persian and Urdu read right to left', async (t) => {
    await open('patient');
    const finder = page.getByLabel('Name (any script) or identifier');
    await finder.fill('Al-Hassan');
    await finder.press('Enter');
    const found = page.getByRole('region', { name: 'Found' });
    await found.getByRole('link').first().click();
    const arabic = page.locator('h1 bdi');
    await arabic.waitFor();
    t.equal(await arabic.textContent(), 'محمد الحسن');
    t.ok(await arabic.evaluate((el) => el.matches(':dir(rtl)')), 'the Arabic name is laid out right to left');
    await open('patient');
    await page.getByRole('region', { name: 'Recently updated' }).getByRole('link').first().waitFor();
    for (const name of [PERSIAN_NAME, URDU_NAME]) {
      const el = page.locator('bdi', { hasText: name }).first();
      t.ok(await el.evaluate((e) => e.matches(':dir(rtl)')), `${name} right to left`);
    }
    t.ok(await page.locator('bdi', { hasText: 'Zahra' }).first().evaluate((e) => e.matches(':dir(ltr)')), 'her Latin name left to right, on the same line');
    await screenshot(page, 'clinician-patients');
  });

  await t.test('registrar: $match candidates with their grade and evidence, then a confirmed $merge', async (t) => {
    await open('registrar');
    await page.getByLabel('Family name').fill('احمدی');
    await page.getByLabel('Given names').fill('زهرا');
    await page.getByLabel('Birth date').fill('1994-05-02');
    await page.getByRole('button', { name: 'Find matches' }).click();
    const table = page.getByRole('table', { name: 'Candidates, best first' });
    await table.waitFor();
    const rows = table.getByRole('row');
    t.ok((await rows.count()) >= 3, 'both records of Zahra Ahmadi are candidates');
    const first = await rows.nth(1).textContent();
    t.match(first, /certain|probable|possible/, 'with a grade');
    t.match(first, /birthDate: agree/, 'and the fields that agreed');
    await screenshot(page, 'registrar-match');
    const mergeButton = page.getByRole('row', { name: /Ahmadi/ }).filter({ hasNotText: PERSIAN_NAME }).getByRole('button', { name: 'Merge…' });
    await mergeButton.click();
    const dialog = page.getByRole('dialog', { name: 'Merge two records' });
    await dialog.waitFor();
    t.equal(await page.evaluate('document.activeElement?.id'), 'merge-source', 'the keyboard lands in the dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await mergeButton.click();
    await dialog.getByLabel('Record to retire').selectOption('console-zahra-2');
    await dialog.getByLabel('Record that stays').selectOption('console-zahra');
    await dialog.getByRole('button', { name: 'Preview merge' }).click();
    t.match(await dialog.getByRole('status').textContent(), 'Would link Patient/console-zahra-2', 'a preview first');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/console-zahra-2', undefined, full)).body.active, undefined, 'nothing changed by the preview');
    await screenshot(page, 'registrar-merge-preview');
    await dialog.getByRole('button', { name: 'Confirm merge' }).click();
    await page.getByRole('status').filter({ hasText: 'Linked Patient/console-zahra-2' }).waitFor();
    const retired = (await fhir(app, 'GET', '/fhir/Patient/console-zahra-2', undefined, full)).body;
    t.equal(retired.active, false, 'the retired record is inactive');
    t.same(retired.link, [{ other: { reference: 'Patient/console-zahra' }, type: 'replaced-by' }]);
  });

  await t.test('profile developer: each issue of $validate on the line it concerns', async (t) => {
    await open('validate');
    const profile = page.getByLabel('Profile');
    await profile.locator('option', { hasText: 'migrant-patient' }).first().waitFor({ state: 'attached' });
    const text = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Haddad', given: ['Amal'] }], gender: 'woman', birthDate: '1990-04-07' }, null, 2);
    const genderLine = text.split('\n').findIndex((l) => l.includes('"gender"')) + 1;
    await page.getByLabel('Resource (JSON)').fill(text);
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByRole('status').filter({ hasText: 'Not valid' }).waitFor();
    const issue = page.getByRole('table', { name: 'Issues by line' }).getByRole('row').filter({ hasText: 'Patient.gender' }).first();
    t.match(await issue.textContent(), new RegExp(`^${genderLine}error`), `the gender issue on line ${genderLine}, with its severity`);
    const line = page.locator(`#line-${genderLine}`);
    t.match(await line.textContent(), /"gender": "woman",.*error.*Patient\.gender/s, 'and next to that line of the text');
    await screenshot(page, 'developer-validate');

    const options = await profile.locator('option').allTextContents();
    const migrant = options.find((o) => o.includes('/migrant-patient'));
    t.ok(migrant, 'the IG profiles are offered');
    await profile.selectOption({ label: migrant! });
    await page.getByLabel('Resource (JSON)').fill('{\n  "resourceType": "Patient",\n  "gender" "female"\n}');
    await page.getByRole('button', { name: 'Validate' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Not valid' });
    await status.waitFor();
    t.match(await page.locator('#line-3').textContent(), /fatal.*Not JSON: Line 3/s, 'text that is not JSON: the line that breaks it');
  });

  await t.test('integration engineer: a refused message listed with its error, replayed once the cause is fixed, and a new message', async (t) => {
    // the same person registered twice with the same hospital number: an update for that number
    // cannot tell which record it is for, and is refused (AE) until they are merged
    const registered = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { ...full, 'content-type': ER7 }, payload: DUPLICATE_A28 });
    t.equal(registered.statusCode, 200, 'a person registered by HL7 v2');
    const original = /Patient\/([\w-]+)/.exec(JSON.parse(registered.body).entry.find((e: any) => e.response.location.includes('/Patient/')).response.location)![1];
    const { id: _id, meta: _meta, ...copy } = (await fhir(app, 'GET', `/fhir/Patient/${original}`, undefined, full)).body;
    t.equal((await fhir(app, 'PUT', '/fhir/Patient/console-dup-copy', { ...copy, id: 'console-dup-copy' }, full)).status, 201, 'and again at another desk');
    const refused = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { ...full, 'content-type': ER7 }, payload: DUPLICATE_A08 });
    t.equal(refused.statusCode, 412, 'an update for that number is refused');

    await open('integration');
    const table = page.locator('table.messages');
    await table.waitFor();
    const failed = table.getByRole('row').filter({ hasText: 'DUP-0002' });
    t.match(await failed.textContent(), /HL7 v2.*HTTP.*ADT\^A08.*HIS\^SAMOS.*AE.*error.*match 2 different Patient records; merge them first/s, 'the refused message: its ACK code and error');
    const a01 = table.getByRole('row').filter({ hasText: 'AR-0001' });
    t.match(await a01.textContent(), /HL7 v2.*ADT\^A01.*AA.*Patient\//s, 'an applied message: its ACK and the patient it wrote');
    t.ok((await table.getByRole('row').filter({ hasText: /national import \(gr\)/ }).count()) >= 1, 'national imports too');
    await screenshot(page, 'integration-list');

    // the registrar merges the two records; the engineer replays the refused message from the keyboard
    const merged = await fhir(app, 'POST', '/fhir/Patient/$merge', { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/console-dup-copy' } }, { name: 'target-patient', valueReference: { reference: `Patient/${original}` } }] }, full);
    t.equal(merged.status, 200, 'the duplicate is merged');
    const replay = failed.getByRole('button', { name: 'Replay DUP-0002' });
    await replay.focus();
    await page.keyboard.press('Enter');
    const answer = page.locator('.answer');
    await answer.filter({ hasText: 'Replay of DUP-0002' }).waitFor();
    t.match(await answer.textContent(), /Replay of DUP-0002: ACK AA: applied, \d+ resources written/, 'replayed: applied now');
    t.match(await answer.textContent(), new RegExp(`Resources written\\s*Patient/${original}`), 'to the record that stays');
    const newest = table.locator('tbody tr').first();
    await newest.filter({ hasText: 'AA' }).waitFor();
    t.match(await newest.textContent(), new RegExp(`DUP-0002.*AA.*Patient/${original}`, 's'), 'the log lists the replay, AA with the resources it wrote');
    await screenshot(page, 'integration-replay');

    await table.getByRole('row').filter({ hasText: 'AR-0001' }).first().getByRole('button', { name: 'Replay AR-0001' }).click();
    await answer.filter({ hasText: 'Replay of AR-0001' }).waitFor();
    t.match(await answer.textContent(), /ACK AA: Message AR-0001 was applied before/, 'a message applied before is recognised and writes nothing');
    await table.getByRole('row').filter({ hasText: /national import \(gr\)/ }).first().getByRole('button', { name: /^Replay/ }).click();
    await answer.filter({ hasText: 'imported before' }).waitFor();
    t.match(await answer.textContent(), /Replay of [\w-]+: This content was imported before/, 'a national import replayed: recognised too');

    await page.getByRole('textbox', { name: 'Message', exact: true }).fill(AR_0001.replace('|AR-0001|', '|AR-0002|').replace('ER-2024-77', 'ER-2024-78').replace(/(PV1\|.*)$/, '$1\nZZZ|a segment no one mapped'));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.answer', { hasText: 'resources written' }).filter({ hasNotText: 'Replay' }).waitFor();
    const text = await answer.textContent();
    t.match(text, /ACK AA: applied, \d+ resources written/, 'a new message: its ACK and what it wrote');
    t.match(text, /Warnings\s*segment ZZZ is not mapped/, 'with the mapping\'s warnings');
    t.match(text, /Resources written\s*Patient\/[\w-]+\s*Encounter\/[\w-]+\s*Provenance\//);
    await screenshot(page, 'integration-send');

    await useToken(token(await bearer('system/*.cruds migfhir/integration.read')));
    await open('integration');
    const note = page.getByRole('status').filter({ hasText: 'Replay is unavailable' });
    await note.waitFor();
    t.match(await note.textContent(), /migfhir\/migration-data\.read/, 'without the migration-data scope the page says why there is no replay');
    t.match(await table.getByRole('row').filter({ hasText: 'DUP-0002' }).first().textContent(), /AA/, 'the list is there');
    t.equal(await page.getByRole('button', { name: /^Replay/ }).count(), 0, 'and no Replay button');
    await screenshot(page, 'integration-no-replay');
  });

  t.same(errors, [], 'no script error in the pages');
});

t.test('integration engineer: with the message log off the page says a replay is the message pasted again', { skip: NO_CHROMIUM }, async (t) => {
  const app = await testApp({ messageLogMax: 0 });
  t.teardown(() => app.close());
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  const page: Page = await browser.newPage();
  await page.goto(`${origin}/console#/integration`);
  const note = page.getByRole('status').filter({ hasText: 'keeps no message log' });
  await note.waitFor();
  t.match(await note.textContent(), /to replay a message, paste it below/);
  t.equal(await page.locator('table.messages').count(), 0, 'no list');
  await screenshot(page, 'integration-log-off');
});
