// Signed digests of every chain head, kept outside the table (a file locally, an Object Lock S3 object on AWS) so a deleted head item still shows.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { headsDigest } from './audit-log.ts';
import { AuditError } from './errors.ts';
import type { AuditHead } from './types.ts';

/** One anchor: every chain head at `time`, their digest, and an Ed25519 signature over the digest. */
export interface AnchorDocument {
  readonly version: 1;
  readonly time: string;
  readonly heads: readonly AuditHead[];
  /** `headsDigest(heads)`: sha256 of the canonical JSON of the heads. */
  readonly digest: string;
  /** Base64 Ed25519 signature over `<time>\n<digest>`. */
  readonly signature: string;
  /** SPKI PEM of the key that signed, so an auditor can check it against the key they hold. */
  readonly publicKey: string;
}

/** Where anchors are kept. `FileAnchorSink` (local state folder) and `S3AnchorSink` (Object Lock bucket). */
export interface AnchorSink {
  write(doc: AnchorDocument): Promise<string>;
  /** The newest anchor, or undefined when none was written yet. */
  latest(): Promise<AnchorDocument | undefined>;
}

/** A fresh Ed25519 key pair (PEM), for a state folder or a secret. */
export function generateAnchorKey(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const message = (time: string, digest: string): Buffer => Buffer.from(`${time}\n${digest}`, 'utf8');

/** Signs the heads. Pure apart from the clock passed in. */
export function signHeads(heads: readonly AuditHead[], privateKeyPem: string, now: Date): AnchorDocument {
  const key: KeyObject = createPrivateKey(privateKeyPem);
  const time = now.toISOString();
  const digest = headsDigest(heads);
  return {
    version: 1,
    time,
    heads: heads.map((h) => ({ partition: h.partition, seq: h.seq, hash: h.hash, time: h.time })),
    digest,
    signature: sign(null, message(time, digest), key).toString('base64'),
    publicKey: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Checks an anchor's digest and signature; with `trustedPublicKey`, also that it was signed by that key
 * (without it, only that the document is self-consistent).
 *
 * @throws AuditError `AUDIT_ANCHOR_INVALID` with what is wrong.
 */
export function verifyAnchor(doc: AnchorDocument, trustedPublicKey?: string): void {
  const fail = (why: string): never => {
    throw new AuditError(`Audit anchor of ${String(doc.time)} is not valid: ${why}`, { code: 'AUDIT_ANCHOR_INVALID' });
  };
  if (doc.version !== 1 || !Array.isArray(doc.heads)) fail('not an anchor document (version 1 with heads)');
  if (headsDigest(doc.heads) !== doc.digest) fail('its heads do not hash to its digest (edited)');
  const key = trustedPublicKey ?? doc.publicKey;
  if (trustedPublicKey !== undefined && normalizePem(trustedPublicKey) !== normalizePem(doc.publicKey)) fail('signed by a different key than the trusted one');
  let ok = false;
  try {
    ok = verify(null, message(doc.time, doc.digest), createPublicKey(key), Buffer.from(doc.signature, 'base64'));
  } catch (err) {
    fail(`its signature cannot be checked: ${(err as Error).message}`);
  }
  if (!ok) fail('its signature does not match');
}

const normalizePem = (pem: string): string => pem.replace(/\s+/g, '');
