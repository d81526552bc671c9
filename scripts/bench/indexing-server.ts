// The server of scripts/bench/indexing.ts: the real app, configured from the environment like
// `migfhir serve --dev-open-access`, and with `--no-index` storing no search index rows, which
// is what "create without indexing" means there. Never a way to run a server for use.
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';

await startServer(loadConfig(['--dev-open-access']), { searchIndex: !process.argv.includes('--no-index') });
