// The integration engineer's page: the last HL7 v2 messages and national imports the server
// received, refused ones included, from its inbound message log ($inbound-messages: when, door,
// sender, control id, event, ACK code, the issues the sender was answered, the resources
// written), a Replay button per message, and a form to send a new one. A replay fetches the
// message as it was received (needs migfhir/integration.read and migfhir/migration-data.read:
// raw v2 text can carry status-revealing identifiers) and posts it again to the door it came
// through, with the same write scopes as any feed: a message applied before is recognised and
// writes nothing; a refused one whose cause was fixed is applied. The text is never shown or
// kept by the page. When the server keeps no log, a replay is the message pasted again.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, fhir } from './api.js';
import { dateText, ErrorNote, html, MIGRATION_SCOPE } from './ui.js';

const ER7 = 'x-application/hl7-v2+er7';
const INTEGRATION_SCOPE = 'migfhir/integration.read';

/** A Parameters' `message` parameter as an object: part name → value (written: a list). */
function entryOf(message) {
  const out = { written: [] };
  for (const p of message.part ?? []) {
    if (p.name === 'written') out.written.push(p.valueReference?.reference);
    else out[p.name] = p.resource ?? p.valueId ?? p.valueInstant ?? p.valueCode ?? p.valueString ?? p.valueBase64Binary ?? p.valueInteger ?? p.valueBoolean;
  }
  return out;
}

function parameter(body, name) {
  return body?.parameter?.find((p) => p.name === name);
}

function kindText(e) {
  return e.kind === 'national' ? `national import (${e.event ?? '?'})` : 'HL7 v2';
}

function TargetLinks({ refs }) {
  return html`<ul class="targets">${refs.map((ref) => {
    const m = /^Patient\/(.+)$/.exec(ref);
    return html`<li>${m ? html`<a href=${`#/patient/${encodeURIComponent(m[1])}`}>${ref}</a>` : ref}</li>`;
  })}</ul>`;
}

function Issues({ issues }) {
  if (!issues?.length) return null;
  return html`<ul class="evidence">${issues.map((i) => html`<li class=${`issue-${i.severity}`}><strong>${i.severity}</strong> ${i.diagnostics ?? i.code}${i.expression?.length ? html` <code>${i.expression.join(', ')}</code>` : ''}</li>`)}</ul>`;
}

/** The message as it was received, posted again to the door it came through (MLLP messages
 * come back over HTTP: the same ingest). */
async function replay(id) {
  const one = await fhir(`$inbound-messages?id=${encodeURIComponent(id)}`);
  const m = parameter(one, 'message');
  const e = m ? entryOf(m) : undefined;
  if (!e?.content) throw new ApiError(404, { issue: [{ severity: 'error', diagnostics: 'The server did not keep this message\'s content: paste it below to replay it' }] });
  const bytes = Uint8Array.from(atob(e.content), (c) => c.charCodeAt(0));
  if (e.kind === 'national') {
    const query = `adapter=${encodeURIComponent(e.event ?? '')}${e.sender ? `&sender=${encodeURIComponent(e.sender)}` : ''}`;
    return { hl7: false, body: await fhir(`$import-national?${query}`, { method: 'POST', body: bytes, contentType: 'application/fhir+json' }) };
  }
  return { hl7: true, body: await fhir('$hl7v2-ingest', { method: 'POST', body: bytes, contentType: e.charset ? `${ER7}; charset=${e.charset}` : ER7 }) };
}

function Recent({ generation, onReplayed }) {
  const [log, setLog] = useState();
  const [error, setError] = useState();
  const [busy, setBusy] = useState();
  useEffect(() => {
    setError(undefined);
    fhir('$inbound-messages?_count=30').then((b) => setLog({
      enabled: parameter(b, 'enabled')?.valueBoolean === true,
      days: parameter(b, 'keepDays')?.valueInteger,
      count: parameter(b, 'keepCount')?.valueInteger,
      readable: parameter(b, 'contentReadable')?.valueBoolean === true,
      entries: (b.parameter ?? []).filter((p) => p.name === 'message').map(entryOf),
    }), setError);
  }, [generation]);
  const run = async (e) => {
    setBusy(e.id);
    try {
      onReplayed({ ...(await replay(e.id)), replayOf: e.controlId ?? e.id });
    } catch (err) {
      onReplayed({ hl7: e.kind === 'hl7v2', replayOf: e.controlId ?? e.id, error: err instanceof ApiError ? err : { status: 'network', outcome: { issue: [{ severity: 'error', diagnostics: String(err.message) }] } } });
    }
    setBusy(undefined);
  };
  return html`<section aria-labelledby="recent-h"><h2 id="recent-h">Last messages and imports</h2>
    <${ErrorNote} error=${error} />
    ${log && !log.enabled && html`<p class="note" role="status">The server keeps no message log (--message-log-days or --message-log-max is 0): to replay a message, paste it below.</p>`}
    ${log?.enabled && !log.readable && html`<p class="withheld-note" role="status">Replay is unavailable: it reads the message as received, which needs the ${MIGRATION_SCOPE} scope as well as ${INTEGRATION_SCOPE} (raw HL7 v2 text can carry status-revealing identifiers that no redaction reaches). To replay one, paste it below.</p>`}
    ${log?.enabled && (log.entries.length
      ? html`<table class="messages"><caption>The newest first; kept ${log.days} days, at most ${log.count} messages</caption>
        <thead><tr><th scope="col">Received</th><th scope="col">Kind</th><th scope="col">Door</th><th scope="col">Event</th><th scope="col">Sender</th><th scope="col">Message</th><th scope="col">ACK</th><th scope="col">Issues</th><th scope="col">Resources written</th>${log.readable ? html`<th scope="col">Replay</th>` : ''}</tr></thead>
        <tbody>${log.entries.map((e) => html`<tr>
          <td>${dateText(e.received)}</td><td>${kindText(e)}</td><td class="nowrap">${e.door.toUpperCase()}</td><td class="nowrap">${e.kind === 'hl7v2' ? e.event ?? '' : ''}</td><td>${e.sender ?? ''}</td>
          <td class="nowrap"><code>${e.controlId ?? ''}</code></td><td class="nowrap"><span class=${`ack ack-${e.ack}`}>${e.ack}</span></td>
          <td><${Issues} issues=${e.outcome?.issue} /></td><td><${TargetLinks} refs=${e.written} /></td>
          ${log.readable ? html`<td class="nowrap">${e.contentKept === false ? html`<span class="note">not kept (${e.size} bytes)</span>` : html`<button type="button" aria-label=${`Replay ${e.controlId ?? e.id}`} disabled=${busy !== undefined} onClick=${() => run(e)}>Replay</button>`}</td>` : ''}
        </tr>`)}</tbody></table>`
      : html`<p>Nothing received yet.</p>`)}
  </section>`;
}

function Answer({ answer }) {
  if (!answer) return null;
  const what = answer.replayOf ? html`Replay of <code>${answer.replayOf}</code>: ` : '';
  if (answer.error) {
    const issues = answer.error.outcome?.issue ?? [];
    // the ACK code the message got is in the log's list, refreshed below
    return html`<div role="status" class="answer"><p>${what}not applied (HTTP ${answer.error.status}).</p><${Issues} issues=${issues} /></div>`;
  }
  const body = answer.body;
  if (body?.resourceType === 'OperationOutcome') {
    return html`<div role="status" class="answer"><p>${what}${answer.hl7 ? html`ACK <span class="ack">AA</span>: ` : ''}${body.issue?.map((i) => i.diagnostics).join(' ')}</p></div>`;
  }
  const entries = body?.entry ?? [];
  const warnings = entries.flatMap((e) => e.response?.outcome?.issue ?? []);
  // Type/id of each location (absolute on the server's base URL, with its version)
  const written = entries.map((e) => /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/[^/]*)?$/.exec(e.response?.location ?? '')?.[1]).filter(Boolean);
  return html`<div role="status" class="answer">
    <p>${what}${answer.hl7 ? html`ACK <span class="ack">AA</span>: applied` : 'Applied'}, ${written.length} resource${written.length === 1 ? '' : 's'} written${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}.</p>
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
  const replayed = (a) => {
    setAnswer(a);
    setGeneration((g) => g + 1);
  };
  const send = async (e) => {
    e.preventDefault();
    setAnswer(undefined);
    setBusy(true);
    const hl7 = kind === 'hl7v2';
    try {
      // ER7 segments end with carriage returns; a textarea gives line feeds
      const body = hl7 ? text.replace(/\r?\n/g, '\r').replace(/\r+$/, '') : text;
      const answerBody = await fhir(hl7 ? '$hl7v2-ingest' : `$import-national?adapter=${encodeURIComponent(adapter.trim())}`, { method: 'POST', body, contentType: hl7 ? `${ER7}; charset=utf-8` : 'application/fhir+json' });
      setAnswer({ hl7, body: answerBody });
    } catch (err) {
      if (err instanceof ApiError) setAnswer({ hl7, error: err });
      else setAnswer({ hl7, error: { status: 'network', outcome: { issue: [{ severity: 'error', diagnostics: String(err.message) }] } } });
    }
    setBusy(false);
    setGeneration((g) => g + 1);
  };
  return html`<h1 tabindex="-1">Messages and imports</h1>
    <${Answer} answer=${answer} />
    <${Recent} generation=${generation} onReplayed=${replayed} />
    <section aria-labelledby="send-h"><h2 id="send-h">Send a message</h2>
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
    </section>`;
}
