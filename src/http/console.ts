// The web console (src/console): static files under /console, outside the FHIR base path and
// without authorization — they hold no data; every record the pages show is fetched by the
// browser from the FHIR API with the bearer token the operator pasted. No build step: the
// pages are ES modules, and preact, preact/hooks and htm are served from node_modules under
// /console/vendor, resolved by the page's import map.
//
// Content-Security-Policy: scripts only from this origin, plus the one inline script a module
// page needs, the import map (browsers do not load import maps from a file), allowed by its
// sha256 rather than 'unsafe-inline'; no inline styles, no frames, no plugins, fetch only to
// this origin.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Context } from '../rest/types.ts';

const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

const MEDIA: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The browser builds (ES modules) of the front-end libraries, by the name they are served
 * under: the files the packages export for `import`. */
function vendorFiles(): Record<string, string> {
  return {
    'preact.mjs': fileURLToPath(import.meta.resolve('preact')),
    'hooks.mjs': fileURLToPath(import.meta.resolve('preact/hooks')),
    'htm.mjs': fileURLToPath(import.meta.resolve('htm')),
  };
}

interface StaticFile {
  type: string;
  body: Buffer;
}

/** Escapes a value placed in an HTML attribute. */
function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The sha256 sources of the page's inline scripts (its import map), for script-src. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
}

export function consolePolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${inlineScriptHashes(html).join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Every file the console serves, read once at start-up (a fixed set: no path from a request
 * ever reaches the file system). */
function consoleFiles(basePath: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(CONSOLE_DIR)) {
    const type = MEDIA[extname(name)];
    if (!type) continue;
    let body = readFileSync(join(CONSOLE_DIR, name));
    // the page learns where the FHIR API is from a meta element (no inline script)
    if (name === 'index.html') body = Buffer.from(body.toString('utf8').replace('%FHIR_BASE%', attribute(basePath)));
    files.set(name, { type, body });
  }
  for (const [name, path] of Object.entries(vendorFiles())) {
    // their source-map comments point at files not served
    const text = readFileSync(path, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
    files.set(`vendor/${name}`, { type: MEDIA['.mjs'], body: Buffer.from(text) });
  }
  return files;
}

export function registerConsole(app: FastifyInstance, ctx: Context): void {
  const files = consoleFiles(ctx.config.basePath);
  const index = files.get('index.html')!;
  const policy = consolePolicy(index.body.toString('utf8'));
  const send = (file: StaticFile) => async (_request: unknown, reply: FastifyReply) =>
    reply
      .header('content-type', file.type)
      .header('content-security-policy', policy)
      // revalidated on each load: the pages change with the server's version
      .header('cache-control', 'no-cache')
      .header('referrer-policy', 'no-referrer')
      .send(file.body);
  app.get('/console', send(index));
  for (const [name, file] of files) if (name !== 'index.html') app.get(`/console/${name}`, send(file));
}
