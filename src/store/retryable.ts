// Whether an error is one the engine's transaction loop retries (MongoDB's error labels): such
// an error must reach the loop unchanged, with its labels, whoever sees it on the way (a
// transaction Bundle's entry, src/rest/bundle.ts). Driver-free: it reads the labels that the
// driver's MongoError carries.
export const TRANSIENT = 'TransientTransactionError';
export const UNKNOWN_COMMIT = 'UnknownTransactionCommitResult';

export function hasErrorLabel(err: unknown, label: string): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { hasErrorLabel?: (l: string) => boolean; errorLabels?: unknown };
  if (typeof e.hasErrorLabel === 'function') return e.hasErrorLabel(label);
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label);
}

/** A transaction attempt that failed this way is run again from the start (or its commit is). */
export function isRetryableStoreError(err: unknown): boolean {
  return hasErrorLabel(err, TRANSIENT) || hasErrorLabel(err, UNKNOWN_COMMIT);
}
