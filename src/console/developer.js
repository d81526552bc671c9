// The profile developer's page: a resource pasted or loaded from a file, a profile picked from
// the StructureDefinitions the server holds (the IG's and stored ones), and $validate's issues
// shown next to the line of the JSON text each one concerns, with severity and FHIRPath.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fhir } from './api.js';
import { ErrorNote, html } from './ui.js';
import { lineOf, parseWithLines } from './json-lines.js';

const SEVERITY_ORDER = { fatal: 0, error: 1, warning: 2, information: 3 };

function Issue({ issue }) {
  return html`<span class=${`issue issue-${issue.severity}`}><strong>${issue.severity}</strong>
    ${issue.path ? html` <code class="fhirpath">${issue.path}</code>` : ''} ${issue.text}</span>`;
}

export function DeveloperPage() {
  const [text, setText] = useState('');
  const [profiles, setProfiles] = useState([]);
  const [profile, setProfile] = useState('');
  const [result, setResult] = useState();
  const [error, setError] = useState();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    fhir('StructureDefinition?derivation=constraint&_elements=url,name,title,type,version&_count=500')
      .then((b) => setProfiles((b.entry ?? []).map((e) => e.resource).sort((a, b) => `${a.type} ${a.title ?? a.name}`.localeCompare(`${b.type} ${b.title ?? b.name}`))), setError);
  }, []);
  const load = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (file) setText(await file.text());
  };
  const validate = async (e) => {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    let tree;
    try {
      tree = parseWithLines(text);
    } catch (err) {
      setResult({ lines: text.split('\n'), issues: [{ severity: 'fatal', line: Number(/^Line (\d+)/.exec(err.message)?.[1] ?? 1), text: `Not JSON: ${err.message}` }] });
      return;
    }
    const type = tree.kind === 'object' ? tree.keys.get('resourceType')?.value : undefined;
    if (typeof type !== 'string' || !/^[A-Z][A-Za-z]+$/.test(type)) {
      setResult({ lines: text.split('\n'), issues: [{ severity: 'fatal', line: 1, text: 'The JSON has no resourceType' }] });
      return;
    }
    setBusy(true);
    let outcome;
    try {
      outcome = await fhir(`${type}/$validate${profile ? `?profile=${encodeURIComponent(profile)}` : ''}`, { method: 'POST', body: text });
    } catch (err) {
      // a resource the server cannot take at all answers with its issues too
      if (err instanceof ApiError && err.outcome?.resourceType === 'OperationOutcome' && err.status !== 401 && err.status !== 403) outcome = err.outcome;
      else setError(err);
    }
    setBusy(false);
    if (!outcome) return;
    const issues = (outcome.issue ?? [])
      .map((i) => {
        const path = i.expression?.[0] ?? i.location?.[0];
        return { severity: i.severity, path, line: path ? lineOf(tree, path) : undefined, text: i.diagnostics ?? i.details?.text ?? i.code };
      })
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
    setResult({ lines: text.split('\n'), issues });
  };
  const counts = result && ['fatal', 'error', 'warning', 'information'].map((s) => [s, result.issues.filter((i) => i.severity === s).length]).filter(([, n]) => n);
  const valid = result && !result.issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  return html`<h1 tabindex="-1">Validate a resource</h1>
    <form onSubmit=${validate} class="validate">
      <div class="field"><label for="resource-text">Resource (JSON)</label>
        <textarea id="resource-text" rows="16" spellcheck="false" dir="ltr" value=${text} onInput=${(e) => setText(e.currentTarget.value)} required></textarea></div>
      <div class="field"><label for="resource-file">Or load a file</label><input id="resource-file" type="file" accept=".json,application/json,application/fhir+json" onChange=${load} /></div>
      <div class="field"><label for="profile">Profile</label>
        <select id="profile" value=${profile} onChange=${(e) => setProfile(e.currentTarget.value)}>
          <option value="">none: R4 and the resource's meta.profile</option>
          ${profiles.map((p) => html`<option value=${p.url}>${p.type}: ${p.title ?? p.name} (${p.url})</option>`)}
        </select></div>
      <button type="submit" disabled=${busy}>Validate</button>
    </form>
    <${ErrorNote} error=${error} />
    ${result && html`<section aria-labelledby="result-h">
      <h2 id="result-h">Result</h2>
      <p role="status" class=${valid ? 'valid' : 'invalid'}>${valid ? 'Valid' : 'Not valid'}${counts.length ? `: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}` : ': no issues'}</p>
      <table class="issues"><caption>Issues by line</caption>
        <thead><tr><th scope="col">Line</th><th scope="col">Severity</th><th scope="col">FHIRPath</th><th scope="col">Message</th></tr></thead>
        <tbody>${result.issues.map((i) => html`<tr class=${`issue-${i.severity}`}>
          <td>${i.line ? html`<a href=${`#/validate`} onClick=${(e) => { e.preventDefault(); document.getElementById(`line-${i.line}`)?.focus(); }}>${i.line}</a>` : '—'}</td>
          <td>${i.severity}</td><td><code>${i.path ?? ''}</code></td><td>${i.text}</td></tr>`)}</tbody></table>
      <h3>The resource, with its issues</h3>
      <ol class="source">${result.lines.map((l, n) => {
        const here = result.issues.filter((i) => i.line === n + 1);
        return html`<li id=${`line-${n + 1}`} tabindex="-1" class=${here.length ? 'has-issue' : ''}><code>${l}</code>${here.map((i) => html`<${Issue} issue=${i} />`)}</li>`;
      })}</ol>
    </section>`}`;
}
