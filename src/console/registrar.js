// The registrar's page: a person entered in any script, the $match candidates with their grade,
// score and the fields that agreed or disagreed (the server's match-evidence extension), then
// $merge of two records — previewed first, applied only once the registrar confirms.
import { useEffect, useState } from 'preact/hooks';
import { fhir } from './api.js';
import { ErrorNote, html, Name, systemText } from './ui.js';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const MATCH_EVIDENCE = 'https://migfhir.org/fhir/StructureDefinition/match-evidence';

function personOf(form) {
  const patient = { resourceType: 'Patient' };
  if (form.family || form.given) patient.name = [{ ...(form.family ? { family: form.family } : {}), ...(form.given ? { given: form.given.split(/\s+/).filter(Boolean) } : {}) }];
  if (form.birthDate) patient.birthDate = form.birthDate;
  if (form.gender) patient.gender = form.gender;
  if (form.system && form.value) patient.identifier = [{ system: form.system, value: form.value }];
  return patient;
}

function evidenceOf(entry) {
  const ext = entry.search?.extension?.find((e) => e.url === MATCH_EVIDENCE);
  return (ext?.extension ?? []).filter((f) => f.extension).map((f) => ({
    field: f.url,
    agreement: f.extension.find((x) => x.url === 'agreement')?.valueCode,
    level: f.extension.find((x) => x.url === 'level')?.valueCode,
  }));
}

function Field({ id, label, value, onInput, type = 'text', ...rest }) {
  return html`<div class="field"><label for=${id}>${label}</label><input id=${id} type=${type} dir="auto" value=${value} onInput=${(e) => onInput(e.currentTarget.value)} ...${rest} /></div>`;
}

function Candidates({ entries, onMerge }) {
  if (!entries.length) return html`<p role="status">No candidate: no stored record resembles this person.</p>`;
  return html`<table class="candidates"><caption>Candidates, best first</caption>
    <thead><tr><th scope="col">Record</th><th scope="col">Grade</th><th scope="col">Score</th><th scope="col">Fields</th><th scope="col">Action</th></tr></thead>
    <tbody>${entries.map((e) => {
      const p = e.resource;
      const grade = e.search?.extension?.find((x) => x.url === MATCH_GRADE)?.valueCode ?? '—';
      return html`<tr>
        <td><a href=${`#/patient/${encodeURIComponent(p.id)}`}>${(p.name ?? []).map((n, i) => html`${i ? ' / ' : ''}<${Name} name=${n} />`)}</a>
          <div class="muted">${p.birthDate ?? ''} ${(p.identifier ?? []).map((i) => `${systemText(i.system)} ${i.value}`).join(', ')}</div></td>
        <td><span class=${`grade grade-${grade}`}>${grade}</span></td>
        <td>${typeof e.search?.score === 'number' ? e.search.score.toFixed(2) : '—'}</td>
        <td><ul class="evidence">${evidenceOf(e).map((f) => html`<li class=${`agree-${f.agreement}`}>${f.field}: ${f.agreement}${f.level ? ` (${f.level})` : ''}</li>`)}</ul></td>
        <td><button type="button" onClick=${() => onMerge(p)}>Merge…</button></td>
      </tr>`;
    })}</tbody></table>`;
}

/** Two records chosen, the preview the server computes, then the confirmed merge. */
function MergeDialog({ candidates, first, onDone, onCancel }) {
  const [source, setSource] = useState(first.id);
  const [target, setTarget] = useState(candidates.find((c) => c.id !== first.id)?.id ?? '');
  const [preview, setPreview] = useState();
  const [error, setError] = useState();
  const label = (p) => `${(p.name ?? []).map((n) => [...(n.given ?? []), n.family].filter(Boolean).join(' ')).join(' / ')} (Patient/${p.id})`;
  const params = (dry) => ({
    resourceType: 'Parameters',
    parameter: [
      { name: 'source-patient', valueReference: { reference: `Patient/${source}` } },
      { name: 'target-patient', valueReference: { reference: `Patient/${target}` } },
      ...(dry ? [{ name: 'preview', valueBoolean: true }] : []),
    ],
  });
  // the keyboard lands in the dialog when it opens
  useEffect(() => document.getElementById('merge-source')?.focus(), []);
  const outcomeText = (p) => p?.parameter?.find((x) => x.name === 'outcome')?.resource?.issue?.map((i) => i.diagnostics).join(' ') ?? '';
  const run = async (dry) => {
    setError(undefined);
    try {
      const answer = await fhir('Patient/$merge', { method: 'POST', body: params(dry) });
      if (dry) setPreview(outcomeText(answer));
      else onDone(outcomeText(answer));
    } catch (err) {
      setError(err);
    }
  };
  return html`<section class="card dialog" role="dialog" aria-modal="false" aria-labelledby="merge-h" onKeyDown=${(e) => e.key === 'Escape' && onCancel()}>
    <h2 id="merge-h">Merge two records</h2>
    <p>The retired record is kept, marked inactive and linked to the record that stays; nothing is deleted.</p>
    <div class="field"><label for="merge-source">Record to retire</label>
      <select id="merge-source" value=${source} onChange=${(e) => { setSource(e.currentTarget.value); setPreview(undefined); }}>${candidates.map((c) => html`<option value=${c.id}>${label(c)}</option>`)}</select></div>
    <div class="field"><label for="merge-target">Record that stays</label>
      <select id="merge-target" value=${target} onChange=${(e) => { setTarget(e.currentTarget.value); setPreview(undefined); }}>${candidates.map((c) => html`<option value=${c.id}>${label(c)}</option>`)}</select></div>
    <${ErrorNote} error=${error} />
    ${preview ? html`<p role="status" class="preview">${preview}</p>` : ''}
    <div class="row">
      ${preview
        ? html`<button type="button" class="danger" onClick=${() => run(false)}>Confirm merge</button>`
        : html`<button type="button" onClick=${() => run(true)} disabled=${!target || source === target}>Preview merge</button>`}
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </section>`;
}

export function RegistrarPage() {
  const [form, setForm] = useState({ family: '', given: '', birthDate: '', gender: '', system: '', value: '' });
  const [result, setResult] = useState();
  const [error, setError] = useState();
  const [merging, setMerging] = useState();
  const [done, setDone] = useState();
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const match = async (e) => {
    e?.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const bundle = await fhir('Patient/$match', { method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: personOf(form) }, { name: 'count', valueInteger: 10 }] } });
      setResult(bundle.entry ?? []);
    } catch (err) {
      setError(err);
    }
  };
  const candidates = (result ?? []).map((e) => e.resource);
  return html`<h1 tabindex="-1">Register and match</h1>
    <form onSubmit=${match} class="person" aria-describedby="person-note">
      <p id="person-note" class="note">Names may be written in any script (Arabic, Persian, Urdu, Cyrillic, Latin…).</p>
      <${Field} id="family" label="Family name" value=${form.family} onInput=${set('family')} />
      <${Field} id="given" label="Given names" value=${form.given} onInput=${set('given')} />
      <${Field} id="birthDate" label="Birth date" type="date" value=${form.birthDate} onInput=${set('birthDate')} />
      <div class="field"><label for="gender">Gender</label>
        <select id="gender" value=${form.gender} onChange=${(e) => set('gender')(e.currentTarget.value)}>
          <option value="">not given</option><option value="female">female</option><option value="male">male</option><option value="other">other</option><option value="unknown">unknown</option>
        </select></div>
      <${Field} id="id-system" label="Identifier system (URI)" value=${form.system} onInput=${set('system')} />
      <${Field} id="id-value" label="Identifier value" value=${form.value} onInput=${set('value')} />
      <button type="submit">Find matches</button>
    </form>
    <${ErrorNote} error=${error} />
    ${done ? html`<p role="status" class="done">${done}</p>` : ''}
    ${result && html`<section aria-labelledby="cand-h"><h2 id="cand-h">Candidates</h2><${Candidates} entries=${result} onMerge=${(p) => setMerging(p)} /></section>`}
    ${merging && html`<${MergeDialog} candidates=${candidates} first=${merging}
      onCancel=${() => setMerging(undefined)} onDone=${(text) => { setMerging(undefined); match(); setDone(text); }} />`}`;
}
