// The integration engineer's page: the last HL7 v2 messages and national imports the server
// applied — each leaves a Provenance (meta.source: the message id; agents: sender and adapter;
// targets: the resources it wrote) — and a form to send or replay one, showing the ACK code,
// the mapping's warnings and the resources produced. The server keeps no message text (it holds
// patient data), so a replay is the message pasted again; a message applied before is
// recognised and changes nothing.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fhir } from './api.js';
import { codeText, dateText, ErrorNote, html } from './ui.js';

const ER7 = 'x-application/hl7-v2+er7; charset=utf-8';

/** What kind of message a Provenance records, from its meta.source. */
function kindOf(p) {
  const source = p.meta?.source ?? '';
  if (source.includes('/hl7v2-message/')) return { kind: 'HL7 v2', ack: 'AA' };
  const national = /^urn:migfhir:national:([a-z]+):/.exec(source);
  if (national) return { kind: `national import (${national[1]})`, ack: 'applied' };
  return { kind: 'import', ack: 'applied' };
}

function TargetLinks({ refs }) {
  return html`<ul class="targets">${refs.map((ref) => {
    const m = /^Patient\/(.+)$/.exec(ref);
    return html`<li>${m ? html`<a href=${`#/patient/${encodeURIComponent(m[1])}`}>${ref}</a>` : ref}</li>`;
  })}</ul>`;
}

function Recent({ generation }) {
  const [rows, setRows] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    fhir('Provenance?_count=30&_sort=-recorded').then((b) => setRows((b.entry ?? []).map((e) => e.resource).filter((p) => p.meta?.source)), setError);
  }, [generation]);
  return html`<section aria-labelledby="recent-h"><h2 id="recent-h">Last messages and imports</h2>
    <${ErrorNote} error=${error} />
    ${rows && (rows.length
      ? html`<table class="messages"><thead><tr><th scope="col">Received</th><th scope="col">Kind</th><th scope="col">Event</th><th scope="col">Sender</th><th scope="col">Message</th><th scope="col">Result</th><th scope="col">Resources written</th></tr></thead>
        <tbody>${rows.map((p) => {
          const { kind, ack } = kindOf(p);
          const author = p.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'author'));
          const what = p.entity?.find((e) => e.role === 'source')?.what;
          return html`<tr><td>${dateText(p.recorded)}</td><td>${kind}</td><td>${codeText(p.activity)}</td><td>${author?.who?.display ?? author?.who?.identifier?.value ?? ''}</td>
            <td><code>${what?.identifier?.value ?? p.meta.source}</code></td><td><span class="ack">${ack}</span></td><td><${TargetLinks} refs=${(p.target ?? []).map((t) => t.reference)} /></td></tr>`;
        })}</tbody></table>`
      : html`<p>Nothing received yet.</p>`)}
    <p class="note">Only applied messages are recorded here; the server keeps no message text. To replay one, paste it below: a message applied before is recognised and writes nothing.</p>
  </section>`;
}

function Answer({ answer }) {
  if (!answer) return null;
  if (answer.error) {
    const issues = answer.error.outcome?.issue ?? [];
    return html`<div role="status" class="answer"><p>Not applied (HTTP ${answer.error.status}).</p>
      <ul>${issues.map((i) => html`<li><strong>${i.severity}</strong> ${i.diagnostics ?? i.code}${i.expression?.length ? html` <code>${i.expression.join(', ')}</code>` : ''}</li>`)}</ul></div>`;
  }
  const body = answer.body;
  if (body?.resourceType === 'OperationOutcome') {
    return html`<div role="status" class="answer"><p>${answer.hl7 ? html`ACK <span class="ack">AA</span>: ` : ''}${body.issue?.map((i) => i.diagnostics).join(' ')}</p></div>`;
  }
  const entries = body?.entry ?? [];
  const warnings = entries.flatMap((e) => e.response?.outcome?.issue ?? []);
  // Type/id of each location (absolute on the server's base URL, with its version)
  const written = entries.map((e) => /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/[^/]*)?$/.exec(e.response?.location ?? '')?.[1]).filter(Boolean);
  return html`<div role="status" class="answer">
    <p>${answer.hl7 ? html`ACK <span class="ack">AA</span>: applied` : 'Applied'}, ${written.length} resource${written.length === 1 ? '' : 's'} written${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}.</p>
    ${warnings.length ? html`<h3>Warnings</h3><ul>${warnings.map((w) => html`<li>${w.diagnostics}${w.expression?.length ? html` <code>${w.expression.join(', ')}</code>` : ''}</li>`)}</ul>` : ''}
    <h3>Resources written</h3><${TargetLinks} refs=${written} />
  </div>`;
}

export function IntegrationPage() {
  const [kind, setKind] = useState('hl7v2');
  const [adapter, setAdapter] = useState('');
  const [text, setText] = useState('');
  const [answer, setAnswer] = useState();
  const [generation, setGeneration] = useState(0);
  const [busy, setBusy] = useState(false);
  const send = async (e) => {
    e.preventDefault();
    setAnswer(undefined);
    setBusy(true);
    const hl7 = kind === 'hl7v2';
    try {
      // ER7 segments end with carriage returns; a textarea gives line feeds
      const body = hl7 ? text.replace(/\r?\n/g, '\r').replace(/\r+$/, '') : text;
      const answerBody = await fhir(hl7 ? '$hl7v2-ingest' : `$import-national?adapter=${encodeURIComponent(adapter.trim())}`, { method: 'POST', body, contentType: hl7 ? ER7 : 'application/fhir+json' });
      setAnswer({ hl7, body: answerBody });
    } catch (err) {
      if (err instanceof ApiError) setAnswer({ hl7, error: err });
      else setAnswer({ hl7, error: { status: 'network', outcome: { issue: [{ severity: 'error', diagnostics: String(err.message) }] } } });
    }
    setBusy(false);
    setGeneration((g) => g + 1);
  };
  return html`<h1 tabindex="-1">Messages and imports</h1>
    <${Recent} generation=${generation} />
    <section aria-labelledby="send-h"><h2 id="send-h">Send or replay a message</h2>
      <form onSubmit=${send}>
        <div class="field"><label for="msg-kind">Kind</label>
          <select id="msg-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
            <option value="hl7v2">HL7 v2 message (ER7)</option><option value="national">National FHIR content (JSON)</option>
          </select></div>
        ${kind === 'national' && html`<div class="field"><label for="msg-adapter">National adapter (e.g. de, gr, it, pl, se)</label><input id="msg-adapter" value=${adapter} onInput=${(e) => setAdapter(e.currentTarget.value)} required /></div>`}
        <div class="field"><label for="msg-text">Message</label>
          <textarea id="msg-text" rows="8" spellcheck="false" dir="auto" value=${text} onInput=${(e) => setText(e.currentTarget.value)} required></textarea></div>
        <button type="submit" disabled=${busy}>Send</button>
      </form>
      <${Answer} answer=${answer} />
    </section>`;
}
