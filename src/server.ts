// Starts the server: builds the app and listens; prints the base URL once ready.
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { AppOptions } from './app.ts';

export async function startServer(config: Config, options: AppOptions = {}) {
  const app = await buildApp(config, options);
  const open = config.devOpenAccess ? 'WARNING: OPEN ACCESS, NO AUTHORIZATION (--dev-open-access, development only): ' : '';
  if (open) app.log.warn(`${open}every request is served without authorization`);
  await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `${open}Server listening at ${address}` });
  // $import is open: its prepare threads build their definitions now, not in the first import's time
  if (config.importTrustedUrls.length) app.fhir.prepare?.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const baseUrl = config.baseUrl ?? `http://${host}:${port}${config.basePath}`;
  process.stdout.write(`migfhir: ${open}FHIR R4 server listening at ${baseUrl} (data in ${config.store === 'mongodb' ? 'MongoDB' : config.dataDir})\n`);
  if (app.fhir.repo.store.atomicTransactions === false) {
    process.stdout.write('migfhir: WARNING: MongoDB is a standalone server (no replica set): transaction Bundles are refused; see docs/deploy-mongodb.md\n');
  }
  if (app.mllp) process.stdout.write(`migfhir: HL7 v2 MLLP listener at ${config.mllpHost}:${app.mllp.port} (no authentication: trusted networks only)\n`);
  if (!config.devOpenAccess) {
    process.stdout.write(`migfhir: SMART Backend Services authorization on; token endpoint ${baseUrl}/auth/token\n`);
  }
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { app, port, baseUrl };
}
