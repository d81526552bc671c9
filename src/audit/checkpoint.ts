// Signed checkpoints of the audit trail: every CHECKPOINT_EVENTS events or CHECKPOINT_MS, and
// when the trail closes, the writer of the trail signs (number of events, head hash, time) with
// an Ed25519 key kept outside the database (the data folder's audit-signing-key.pem, or
// --audit-key). The hash chain alone shows a changed or reordered event, but not a cut tail or
// an emptied trail: a chain that is shorter than its last checkpoint, or that does not pass
// through it, is. What stays undetectable is written down in docs/audit.md.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** a checkpoint once this many events were appended since the last one… */
export const CHECKPOINT_EVENTS = 1000;
/** …or at the first append this long after it */
export const CHECKPOINT_MS = 10_000;

export interface Checkpoint {
  /** events in the chain up to and including the head */
  events: number;
  /** hash of the chain's event number `events` (GENESIS for none) */
  head: string;
  /** when it was signed (ISO instant) */
  at: string;
  /** sha256 of the public key (SPKI DER), first 16 bytes in hex: which key signed it */
  keyId: string;
  /** Ed25519 signature of signedText(), base64 */
  signature: string;
}

/** What a checkpoint's signature covers. */
export function signedText(c: Pick<Checkpoint, 'events' | 'head' | 'at'>): string {
  return `migfhir-audit-checkpoint:1|${c.events}|${c.head}|${c.at}`;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

/** The private key that signs checkpoints, as PEM (a worker thread gets it as text). */
export interface CheckpointSigner {
  pem: string;
  sign(c: Pick<Checkpoint, 'events' | 'head' | 'at'>): Checkpoint;
}

export function signerFromPem(pem: string): CheckpointSigner {
  const key = createPrivateKey(pem);
  const keyId = keyIdOf(createPublicKey(key));
  return {
    pem,
    sign: (c) => ({ ...c, keyId, signature: sign(null, Buffer.from(signedText(c)), key).toString('base64') }),
  };
}

/** The signing key in `file`, created (mode 0600) when there is none yet. */
export function loadOrCreateSigner(file: string): CheckpointSigner {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  }
  return signerFromPem(readFileSync(file, 'utf8'));
}

/** A key that lives as long as the process (an in-memory database: nothing outlives it). */
export function ephemeralSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signerFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** The public key of a PEM file holding either half of the pair. */
export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

/** Whether `c` was signed by `publicKey` as it reads. */
export function validSignature(c: Checkpoint, publicKey: KeyObject): boolean {
  if (c.keyId !== keyIdOf(publicKey)) return false;
  try {
    return verify(null, Buffer.from(signedText(c)), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Where checkpoints are kept, by engine. */
export interface CheckpointLog {
  /** every checkpoint, oldest first */
  all(): Checkpoint[];
}
