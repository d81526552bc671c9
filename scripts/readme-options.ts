// Rewrites the options table in README.md from src/config.ts (test/config.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { OPTIONS } from '../src/config.ts';

const table = [
  '| flag | environment variable | default | meaning |',
  '|---|---|---|---|',
  ...OPTIONS.map((o) => `| \`${o.flag}\` | \`${o.env}\` | ${o.default ? `\`${o.default}\`` : '-'} | ${o.description} |`),
].join('\n');
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
writeFileSync(path, readme.replace(/(<!-- options:start[^\n]*\n)[\s\S]*?(<!-- options:end -->)/, (_m, a, b) => `${a}${table}\n${b}`));
