// Runs README.md's shell examples in order, as a reader would in one terminal, against servers
// started the way the README starts them — and reports every HTTP status or exit status that
// differs from what the text claims.
//
// Conventions the README keeps (and this runner reads):
// - every ```sh block runs, in order, in one bash session (variables carry over), in an empty
//   working folder; a block preceded by `<!-- doc-test: skip: <reason> -->` is not run (it needs
//   what no test machine has: Docker, a MongoDB cluster, a public host name);
// - a curl whose command lines carry a comment starting with a status (`# 412`, `# → 410 Gone`)
//   must answer that status; any other must answer 2xx or 3xx; `→ \`text\`` in that comment
//   is text the answer must hold, `→ no \`text\`` text it must not;
// - any other command must exit 0, unless its lines carry `# exit N`;
// - `npm start [-- args]` and `migfhir serve [args]` (re)start the server of that port (8080
//   unless `--port` says otherwise; `--port 0` counts as 8080) in the background and return once
//   it is ready; `npm ci`, `npm install`, `npm test` are skipped.
// The addresses 127.0.0.1:8080–8082 and :9000 (and the MLLP port 2575) are replaced by free
// ports, and
// absolute data folders (/var/lib/migfhir, /tmp/…) by folders of the run.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export interface Block {
  /** README line of the first line inside the fence */
  line: number;
  lines: string[];
  skip?: string;
}

const SKIP = /^<!--\s*doc-test:\s*skip:\s*(.+?)\s*-->$/;

/** What a fresh clone does not have, or what the examples make themselves. */
const OWN_FILES = new Set(['.git', 'data', 'test-artifacts', '.tap', '.tools']);

export function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```sh') continue;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() !== '```') j++;
    let skip: string | undefined;
    for (let k = i - 1; k >= 0 && k >= i - 2; k--) {
      const m = SKIP.exec(lines[k].trim());
      if (m) skip = m[1];
      if (lines[k].trim() !== '' && !m) break;
    }
    out.push({ line: i + 2, lines: lines.slice(i + 1, j), skip });
    i = j;
  }
  return out;
}

export interface Claim {
  status?: number;
  exit?: number;
  /** text the answer holds: `→ \`text\`` */
  contains?: string[];
  /** text it must not hold: `→ no \`text\`` */
  lacks?: string[];
}

/** The claim written in the comments of a command's lines (README line numbers, 1-based). */
export function claimAt(readme: string[], line: number): Claim {
  const claim: Claim = {};
  for (let l = line; l <= readme.length; l++) {
    const text = readme[l - 1];
    const comment = /(?:^|\s)#\s*(.*)$/.exec(text)?.[1] ?? '';
    const status = /^(?:→\s*)?([1-5]\d\d)(?!\d)/.exec(comment);
    if (status) claim.status = Number(status[1]);
    const exit = /^exit (\d+)/.exec(comment);
    if (exit) claim.exit = Number(exit[1]);
    for (const m of comment.matchAll(/→\s*(no\s+)?`([^`]+)`/g)) {
      const list = m[1] ? (claim.lacks ??= []) : (claim.contains ??= []);
      list.push(m[2]);
    }
    if (!/\\\s*$/.test(text.replace(/\s#.*$/, ''))) break; // the command ends on this line
  }
  return claim;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

export interface Run {
  /** README line → what happened there */
  records: { line: number; kind: 'curl' | 'exit'; status: number; rc?: number; body?: string }[];
  output: string;
}

/** README ports (the server's 8080, a second server's 8081…, MLLP's 2575) → free ports here. */
export type Ports = Map<number, number>;

function shims(dir: string, repo: string, ports: Ports): void {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const realNpm = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const realNpx = execFileSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim();
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const cases = [...ports].map(([readme, real]) => `${readme}) port=${real};;`).join(' ');
  // a server in the background, replacing the previous one on the same README port; returns
  // when /healthz answers. `--port 0` (any free port) counts as the default port.
  write('doc-serve', `
port=${ports.get(8080)}
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) case "$2" in ${cases} esac; shift 2;;
    --port=*|--host) [ "$1" = --host ] && shift; shift;;
    --host=*) shift;;
    *) args+=("$1"); shift;;
  esac
done
pidfile=${JSON.stringify(dir)}/server-$port.pid
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.1; done
nohup node ${JSON.stringify(join(repo, 'src/cli/main.ts'))} serve "\${args[@]}" --port $port --host 127.0.0.1 >> ${JSON.stringify(join(dir, 'server.log'))} 2>&1 &
echo $! > "$pidfile"
for i in $(seq 1 1200); do
  command curl -sf -o /dev/null http://127.0.0.1:$port/healthz && { echo "(doc test: server ready)"; exit 0; }
  kill -0 $! 2>/dev/null || { echo "(doc test: the server exited)"; tail -20 ${JSON.stringify(join(dir, 'server.log'))}; exit 1; }
  sleep 0.1
done
echo "(doc test: server not ready after 120 s)"; exit 1`);
  write('migfhir', `[ "$1" = serve ] && { shift; exec doc-serve "$@"; }\nexec node ${JSON.stringify(join(repo, 'src/cli/main.ts'))} "$@"`);
  write('npx', `[ "$1" = migfhir ] && { shift; exec migfhir "$@"; }\nexec ${JSON.stringify(realNpx)} "$@"`);
  write('npm', `case "$1" in
  start) shift; [ "$1" = -- ] && shift; exec doc-serve --dev-open-access "$@";;
  ci|install|test) echo "(doc test: npm $1 skipped)"; exit 0;;
  run) case "$2" in build:*) echo "(doc test: npm run $2 skipped: it rewrites the repository's generated files, test/ig/build.test.ts checks it)"; exit 0;; esac;;
esac
exec ${JSON.stringify(realNpm)} "$@"`);
}

const PRELUDE = (log: string, bodies: string) => `
__log=${JSON.stringify(log)}
__n=0
curl() {
  local line=\${BASH_LINENO[0]} out hdr rc status
  __n=$((__n + 1))
  out=${JSON.stringify(bodies)}/$__n
  hdr=${JSON.stringify(bodies)}/$__n.headers
  # the status from the dumped headers, so the example's own -i, -o and -w work as written
  command curl -D "$hdr" "$@" > "$out"; rc=$?
  status=$(grep -a '^HTTP/' "$hdr" 2>/dev/null | tail -1 | cut -d' ' -f2)
  cat "$out"
  echo "curl \${__map[$line]:-0} \${status:-0} $rc $__n" >> "$__log"
  return $rc
}
__err() { [ -n "\${__map[$1]}" ] && echo "exit \${__map[$1]} $2" >> "$__log"; }
set -E
trap '__err $LINENO $?' ERR
`;

/** Rewrites what a test machine must change: ports, absolute data folders. */
function localize(line: string, ports: Ports, dir: string): string {
  return line
    .replace(/(127\.0\.0\.1|localhost):(80\d\d|9000)\b/g, (all, _host, p) => (ports.has(Number(p)) ? `127.0.0.1:${ports.get(Number(p))}` : all))
    .replace(/--mllp-port 2575/g, `--mllp-port ${ports.get(2575)}`)
    .replace(/\/dev\/tcp\/127\.0\.0\.1\/2575/g, `/dev/tcp/127.0.0.1/${ports.get(2575)}`)
    .replace(/\/var\/lib\/migfhir/g, join(dir, 'var-lib-migfhir'))
    .replace(/(^|[\s='"])\/tmp\//g, `$1${dir}/tmp/`);
}

/** Runs the README's examples; their output goes to `outputFile` as they run (and is returned). */
export async function runReadme(readmePath: string, dir: string, timeoutMs: number, outputFile: string, untilLine = Infinity): Promise<Run> {
  const repo = resolve(readmePath, '..');
  const readme = readFileSync(readmePath, 'utf8');
  const ports: Ports = new Map();
  for (const p of [8080, 8081, 8082, 2575, 9000]) ports.set(p, await freePort());
  shims(dir, repo, ports);
  // the reader's clone: the repository's files, linked, in a folder of its own, so that what the
  // examples write (data/, adt.hl7, phq9.json …) lands there
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  // folders are linked, files copied: an example that writes a file of the clone's top level
  // (package.json, README.md) must not change the repository
  for (const entry of readdirSync(repo, { withFileTypes: true })) {
    if (OWN_FILES.has(entry.name)) continue;
    if (entry.isDirectory()) symlinkSync(join(repo, entry.name), join(work, entry.name));
    else copyFileSync(join(repo, entry.name), join(work, entry.name));
  }
  const log = join(dir, 'records.log');
  writeFileSync(log, '');
  // the script: prelude, then each block with a map from script lines to README lines
  const bodies = join(dir, 'bodies');
  mkdirSync(bodies);
  const script: string[] = ['declare -A __map', PRELUDE(log, bodies)];
  const mapLines: string[] = [];
  const body: string[] = [];
  let lineNo = 0;
  for (const block of readmeBlocks(readme)) {
    if (block.skip || block.line > untilLine) continue;
    body.push(`echo "=== README line ${block.line}"`);
    lineNo++;
    block.lines.forEach((l, i) => {
      body.push(localize(l, ports, dir));
      lineNo++;
      mapLines.push(`${lineNo}:${block.line + i}`);
    });
  }
  const header = [...script.join('\n').split('\n')];
  const offset = header.length + mapLines.length;
  const maps = mapLines.map((m) => {
    const [s, r] = m.split(':');
    return `__map[${Number(s) + offset}]=${r}`;
  });
  const text = [...header, ...maps, ...body, ''].join('\n');
  const scriptPath = join(dir, 'readme.sh');
  writeFileSync(scriptPath, text);
  const output = await new Promise<string>((ok) => {
    const child = spawn('bash', [scriptPath], {
      cwd: work,
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: what the examples start in the background ends with it
      detached: true,
    });
    let out = '';
    const take = (d: Buffer) => {
      out += d;
      appendFileSync(outputFile, d);
    };
    writeFileSync(outputFile, '');
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone
      }
    };
    const timer = setTimeout(() => group('SIGKILL'), timeoutMs);
    // 'exit', not 'close': a background process of an example may still hold the pipes
    child.on('exit', () => {
      clearTimeout(timer);
      group('SIGTERM');
      setTimeout(() => ok(out), 200);
    });
  });
  // the servers the examples started
  execFileSync('bash', ['-c', `for f in ${JSON.stringify(dir)}/server-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; true`]);
  const records = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((r) => {
    const [kind, line, status, rc, n] = r.split(' ');
    return {
      kind: kind as 'curl' | 'exit', line: Number(line), status: Number(status),
      ...(rc === undefined ? {} : { rc: Number(rc) }),
      ...(n === undefined ? {} : { body: readFileSync(join(bodies, n), 'utf8') }),
    };
  });
  return { records, output };
}
