// The console's shell: landmarks, navigation between the four pages (hash routes, so every
// page has a link and the back button works), and the bearer token panel.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './ui.js';
import { setToken, token } from './api.js';
import { ClinicianPage } from './clinician.js';
import { RegistrarPage } from './registrar.js';
import { DeveloperPage } from './developer.js';
import { IntegrationPage } from './integration.js';

const PAGES = [
  { path: 'patient', title: 'Patient record', who: 'clinician' },
  { path: 'registrar', title: 'Register and match', who: 'registrar' },
  { path: 'validate', title: 'Validate a resource', who: 'profile developer' },
  { path: 'integration', title: 'Messages and imports', who: 'integration engineer' },
];

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = PAGES.some((p) => p.path === parts[0]) ? parts[0] : 'patient';
  return { page, arg: parts[1] };
}

function TokenPanel({ onChange }) {
  const [value, setValue] = useState('');
  const [held, setHeld] = useState(!!token());
  const save = (e) => {
    e.preventDefault();
    // from the field itself: the state may not have caught up with a paste yet
    const pasted = e.currentTarget.elements.token.value.trim();
    setToken(pasted);
    setHeld(!!pasted);
    setValue('');
    onChange();
  };
  const clear = () => {
    setToken('');
    setHeld(false);
    onChange();
  };
  return html`<form class="token" onSubmit=${save} aria-label="Access token">
    <label for="token">Bearer token</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false" value=${value} onInput=${(e) => setValue(e.currentTarget.value)}
      aria-describedby="token-note" placeholder=${held ? 'a token is set for this tab' : 'paste an access token'} />
    <button type="submit">Use token</button>
    ${held && html`<button type="button" onClick=${clear}>Forget token</button>`}
    <p id="token-note" class="note">${held ? 'A token is set. ' : 'No token: works when the server runs without authorization. '}It is kept in this tab only and forgotten when the tab closes.</p>
  </form>`;
}

function App() {
  const [where, setWhere] = useState(route());
  // a new token reloads the page's data
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const onHash = () => {
      setWhere(route());
      // after a page change, the main heading takes the focus (keyboard and screen readers)
      requestAnimationFrame(() => document.querySelector('main h1')?.focus());
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const page = PAGES.find((p) => p.path === where.page);
  document.title = `${page.title} · migfhir console`;
  const props = { key: `${where.page}/${where.arg ?? ''}/${generation}`, arg: where.arg };
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header>
      <p class="brand">migfhir console</p>
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p.path === where.page ? 'page' : undefined}>${p.title}</a></li>`)}
        </ul>
      </nav>
      <${TokenPanel} onChange=${() => setGeneration((g) => g + 1)} />
    </header>
    <main id="main" tabindex="-1">
      ${where.page === 'patient' && html`<${ClinicianPage} ...${props} />`}
      ${where.page === 'registrar' && html`<${RegistrarPage} ...${props} />`}
      ${where.page === 'validate' && html`<${DeveloperPage} ...${props} />`}
      ${where.page === 'integration' && html`<${IntegrationPage} ...${props} />`}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
