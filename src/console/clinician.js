// The clinician's page: find a patient, then the cross-border record on one page — identities
// in every script and identifier system, languages and interpreter need, the migration journey
// (only with the migration-data scope), encounters by country, conditions, allergies,
// medications, immunizations, screening scores, referrals — and the IPS ($summary) as text.
// What the server withholds is said from its notice on the answer (the x-sensitive-data header,
// the same for every record a token without the migration-data scope reads), never guessed at.
import { useEffect, useState } from 'preact/hooks';
import { allEntries, fhir, fhirAnswer } from './api.js';
import { codeText, countryText, dateText, ErrorNote, extensionOf, html, MIGRATION_SCOPE, Name, nameText, periodText, summaryLine, systemText, valueText } from './ui.js';

const INTERPRETER = 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired';
const JOURNEY = /\/StructureDefinition\/migration-?journey$/;
// interpretations that need no action; any other one on a screening score is shown as an alert
const NO_ALERT = new Set(['none', 'minimal', 'mild', 'normal', 'negative', 'N', 'NEG', 'L']);

/** Loads `load()` when the component appears; answers { data, error, loading }. */
function useLoad(load) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    load().then((data) => live && setState({ data }), (error) => live && setState({ error }));
    return () => {
      live = false;
    };
  }, []);
  return state;
}

function PatientList({ patients }) {
  if (!patients.length) return html`<p>No patient found.</p>`;
  return html`<ul class="patients">
    ${patients.map((p) => html`<li><a href=${`#/patient/${encodeURIComponent(p.id)}`}>
      ${(p.name ?? []).map((n, i) => html`${i ? ' / ' : ''}<${Name} name=${n} />`)}${p.name?.length ? '' : p.id}</a>
      <span class="muted"> ${p.birthDate ?? ''}</span></li>`)}
  </ul>`;
}

function PatientFinder() {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState();
  const [error, setError] = useState();
  const recent = useLoad(() => fhir('Patient?_count=20&_sort=-_lastUpdated&_elements=name,birthDate'));
  const search = async (e) => {
    e.preventDefault();
    setError(undefined);
    try {
      const q = encodeURIComponent(query.trim());
      let bundle = await fhir(`Patient?name=${q}&_count=50`);
      if (!bundle.entry?.length) bundle = await fhir(`Patient?identifier=${q}&_count=50`);
      setFound((bundle.entry ?? []).map((x) => x.resource));
    } catch (err) {
      setError(err);
    }
  };
  return html`<h1 tabindex="-1">Patient record</h1>
    <form class="row" role="search" onSubmit=${search}>
      <label for="find">Name (any script) or identifier</label>
      <input id="find" dir="auto" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} required />
      <button type="submit">Find</button>
    </form>
    <${ErrorNote} error=${error} />
    ${found && html`<section aria-labelledby="found-h"><h2 id="found-h">Found</h2><${PatientList} patients=${found} /></section>`}
    <section aria-labelledby="recent-h"><h2 id="recent-h">Recently updated</h2>
      <${ErrorNote} error=${recent.error} />
      ${recent.data && html`<${PatientList} patients=${(recent.data.entry ?? []).map((x) => x.resource)} />`}
    </section>`;
}

function Section({ id, title, children, empty }) {
  return html`<section aria-labelledby=${id} class="card"><h2 id=${id}>${title}</h2>${empty ? html`<p class="muted">None recorded.</p>` : children}</section>`;
}

function Identities({ patient }) {
  return html`<${Section} id="identities-h" title="Identities">
    <h3>Names</h3>
    <ul class="names">${(patient.name ?? []).map((n) => html`<li><${Name} name=${n} />${n.use ? html` <span class="muted">(${n.use})</span>` : ''}</li>`)}</ul>
    <h3>Identifiers</h3>
    ${patient.identifier?.length
      ? html`<table><thead><tr><th scope="col">System</th><th scope="col">Value</th></tr></thead><tbody>
        ${patient.identifier.map((i) => html`<tr><td>${systemText(i.system)}</td><td><bdi dir="auto">${i.value}</bdi></td></tr>`)}</tbody></table>`
      : html`<p class="muted">None visible.</p>`}
    <p>${[patient.gender, patient.birthDate && `born ${patient.birthDate}`].filter(Boolean).join(', ')}</p>
  </${Section}>`;
}

function Languages({ patient }) {
  const interpreter = extensionOf(patient, INTERPRETER)?.valueBoolean;
  return html`<${Section} id="languages-h" title="Languages">
    <ul>${(patient.communication ?? []).map((c) => html`<li>${codeText(c.language)}${c.preferred ? ' (preferred)' : ''}</li>`)}</ul>
    <p class=${interpreter ? 'alert' : ''}>Interpreter: ${interpreter === true ? 'needed' : interpreter === false ? 'not needed' : 'not recorded'}</p>
  </${Section}>`;
}

function Journey({ patient, withheld }) {
  const journey = patient.extension?.find((e) => JOURNEY.test(e.url));
  if (!journey) {
    return html`<${Section} id="journey-h" title="Migration journey">
      <p class="muted">${withheld ? html`Withheld, if recorded: your token does not carry the scope <code>${MIGRATION_SCOPE}</code>.` : 'None recorded.'}</p>
    </${Section}>`;
  }
  const part = (url) => journey.extension?.filter((e) => e.url === url) ?? [];
  const country = (e) => countryText(e?.valueCodeableConcept?.coding?.[0]?.code) || codeText(e?.valueCodeableConcept);
  return html`<${Section} id="journey-h" title="Migration journey">
    <dl>
      <dt>Country of origin</dt><dd>${country(part('countryOfOrigin')[0]) || 'not recorded'}</dd>
      ${part('transit').map((t) => html`<dt>Transit</dt><dd>${country(t.extension?.find((x) => x.url === 'country'))} ${periodText(t.extension?.find((x) => x.url === 'period')?.valuePeriod)}</dd>`)}
      ${part('arrivalDate').map((a) => html`<dt>Arrival</dt><dd>${a.valueDate}</dd>`)}
    </dl>
  </${Section}>`;
}

/** The country an encounter took place in: its service provider's or location's address. */
function encounterCountry(e, byRef) {
  const places = [e.serviceProvider?.reference, ...(e.location ?? []).map((l) => l.location?.reference)].filter(Boolean);
  for (const ref of places) {
    const country = byRef.get(ref)?.address?.[0]?.country;
    if (country) return countryText(country);
  }
  return 'Country not recorded';
}

function Timeline({ encounters, byRef }) {
  const sorted = [...encounters].sort((a, b) => (b.period?.start ?? '').localeCompare(a.period?.start ?? ''));
  const groups = new Map();
  for (const e of sorted) {
    const c = encounterCountry(e, byRef);
    groups.set(c, [...(groups.get(c) ?? []), e]);
  }
  return html`<${Section} id="timeline-h" title="Encounters by country" empty=${!encounters.length}>
    ${[...groups].map(([country, list]) => html`<h3>${country}</h3><ol class="timeline">
      ${list.map((e) => html`<li><time datetime=${e.period?.start ?? ''}>${periodText(e.period) || 'no date'}</time>${[codeText(e.type?.[0]) || e.class?.display || e.class?.code, e.status, byRef.get(e.serviceProvider?.reference)?.name ?? e.location?.[0]?.location?.display].filter(Boolean).map((x) => ` · ${x}`)}</li>`)}
    </ol>`)}
  </${Section}>`;
}

function Lines({ id, title, resources, byRef }) {
  return html`<${Section} id=${id} title=${title} empty=${!resources.length}>
    <ul>${resources.map((r) => html`<li>${summaryLine(r, (ref) => byRef?.get(ref))}</li>`)}</ul>
  </${Section}>`;
}

function Screenings({ observations }) {
  return html`<${Section} id="screening-h" title="Screening scores" empty=${!observations.length}>
    <table><thead><tr><th scope="col">Screening</th><th scope="col">Score</th><th scope="col">Interpretation</th><th scope="col">Date</th></tr></thead><tbody>
    ${observations.map((o) => {
      const alert = (o.interpretation ?? []).some((i) => (i.coding ?? []).some((c) => !NO_ALERT.has(c.code)));
      return html`<tr><td>${codeText(o.code)}</td><td>${valueText(o)}</td>
        <td>${(o.interpretation ?? []).map(codeText).join(', ') || '—'}${alert ? html` <strong class="alert">alert</strong>` : ''}</td><td>${dateText(o.effectiveDateTime ?? o.issued)}</td></tr>`;
    })}</tbody></table>
  </${Section}>`;
}

function Referrals({ requests }) {
  return html`<${Section} id="referrals-h" title="Referrals" empty=${!requests.length}>
    <table><thead><tr><th scope="col">Referral</th><th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Requested</th></tr></thead><tbody>
    ${requests.map((r) => html`<tr><td>${codeText(r.code) || codeText(r.category?.[0])}</td><td>${r.status}</td><td>${r.priority ?? '—'}</td><td>${dateText(r.authoredOn)}</td></tr>`)}
    </tbody></table>
  </${Section}>`;
}

/** The IPS document, section by section, each entry resolved inside the document. */
function Summary({ state }) {
  if (state.loading) return html`<${Section} id="ips-h" title="International Patient Summary"><p aria-busy="true">Loading…</p></${Section}>`;
  if (state.error) return html`<${Section} id="ips-h" title="International Patient Summary"><${ErrorNote} error=${state.error} /></${Section}>`;
  const doc = state.data;
  const resources = (doc.entry ?? []).map((e) => e.resource).filter(Boolean);
  const byUrl = new Map();
  for (const e of doc.entry ?? []) {
    if (!e.resource) continue;
    if (e.fullUrl) byUrl.set(e.fullUrl, e.resource);
    byUrl.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  const composition = resources.find((r) => r.resourceType === 'Composition');
  if (!composition) return html`<${Section} id="ips-h" title="International Patient Summary"><p>The summary has no Composition.</p></${Section}>`;
  return html`<${Section} id="ips-h" title="International Patient Summary">
    <p>${composition.title} · ${dateText(composition.date)}</p>
    ${(composition.section ?? []).map((s, i) => html`<section class="ips-section" aria-labelledby=${`ips-${i}`}><h3 id=${`ips-${i}`}>${s.title ?? codeText(s.code)}</h3>
      ${s.entry?.length
        ? html`<ul>${s.entry.map((ref) => {
            const r = byUrl.get(ref.reference);
            return html`<li>${r ? summaryLine(r, (x) => byUrl.get(x)) : ref.display ?? ref.reference}</li>`;
          })}</ul>`
        : html`<p class="muted">${codeText(s.emptyReason) || 'No entries.'}</p>`}
    </section>`)}
  </${Section}>`;
}

async function loadRecord(id) {
  const { body: patient, withheld } = await fhirAnswer(`Patient/${encodeURIComponent(id)}`);
  const everything = await allEntries(`Patient/${encodeURIComponent(id)}/$everything?_count=100`);
  const byRef = new Map(everything.map((r) => [`${r.resourceType}/${r.id}`, r]));
  // the places of encounters and the medications taken, outside the patient's compartment
  const wanted = new Set();
  for (const r of everything) {
    const refs = r.resourceType === 'Encounter' ? [r.serviceProvider?.reference, ...(r.location ?? []).map((l) => l.location?.reference)] : [r.medicationReference?.reference];
    for (const ref of refs) if (/^(Organization|Location|Medication)\/[A-Za-z0-9\-.]{1,64}$/.test(ref ?? '') && !byRef.has(ref)) wanted.add(ref);
  }
  await Promise.all([...wanted].slice(0, 30).map((ref) => fhir(ref).then((r) => byRef.set(ref, r), () => undefined)));
  return { patient, everything, byRef, withheld };
}

function Record({ id }) {
  const record = useLoad(() => loadRecord(id));
  const summary = useLoad(() => fhir(`Patient/${encodeURIComponent(id)}/$summary`));
  if (record.loading) return html`<h1 tabindex="-1">Patient record</h1><p aria-busy="true">Loading…</p>`;
  if (record.error) return html`<h1 tabindex="-1">Patient record</h1><${ErrorNote} error=${record.error} />`;
  const { patient, everything, byRef, withheld } = record.data;
  const of = (...types) => everything.filter((r) => types.includes(r.resourceType));
  const screening = of('Observation').filter((o) => o.category?.some((c) => c.coding?.some((x) => x.code === 'survey')));
  const first = patient.name?.[0];
  return html`<h1 tabindex="-1">${first ? html`<${Name} name=${first} />` : `Patient/${patient.id}`}</h1>
    <p class="muted">Patient/${patient.id}${patient.active === false ? ' · inactive record' : ''}${patient.link?.length ? ` · linked: ${patient.link.map((l) => `${l.type} ${l.other.reference}`).join(', ')}` : ''}</p>
    ${withheld
      ? html`<p class="withheld-note" role="status">Withheld: migration status, journey and vulnerability details, and identifiers that reveal a status, are not shown for any record to a token without the scope <code>${MIGRATION_SCOPE}</code>.</p>`
      : ''}
    <div class="grid">
      <${Identities} patient=${patient} />
      <${Languages} patient=${patient} />
      <${Journey} patient=${patient} withheld=${withheld} />
      <${Timeline} encounters=${of('Encounter')} byRef=${byRef} />
      <${Lines} id="conditions-h" title="Conditions" resources=${of('Condition')} />
      <${Lines} id="allergies-h" title="Allergies" resources=${of('AllergyIntolerance')} />
      <${Lines} id="medications-h" title="Medications" resources=${of('MedicationStatement', 'MedicationRequest')} byRef=${byRef} />
      <${Lines} id="immunizations-h" title="Immunizations" resources=${of('Immunization')} />
      <${Screenings} observations=${screening} />
      <${Referrals} requests=${of('ServiceRequest')} />
      <${Lines} id="alerts-h" title="Flags" resources=${of('Flag').filter((f) => f.status === 'active')} />
    </div>
    <${Summary} state=${summary} />`;
}

export function ClinicianPage({ arg }) {
  return arg ? html`<${Record} id=${arg} />` : html`<${PatientFinder} />`;
}
