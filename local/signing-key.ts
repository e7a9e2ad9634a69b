// The local stack's cosign-style signing key pair (ECDSA P-256, PEM), created in the state folder on first start and kept after.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCAL_SECRETS_DIR } from './secrets.ts';

/**
 * The secret name config/local.yaml's signature gate names (`keys: [{ secretName: … }]`). The local
 * stack's Secrets Manager stand-in (local/secrets.ts) reads it from `<state>/secrets/<name>`.
 */
export const LOCAL_SIGNING_PUBLIC_KEY_SECRET = 'regman-local/cosign.pub';

export interface LocalSigningKey {
  /** PKCS#8 PEM, mode 0600: what `regman demo` (or `openssl dgst -sha256 -sign`) signs with. */
  readonly privateKeyPath: string;
  /** SPKI PEM: the key the staging → prod signature gate verifies with. */
  readonly publicKeyPath: string;
  readonly publicKeyPem: string;
  /** True when this call made the pair (first start of this state folder). */
  readonly created: boolean;
}

/** Where the pair lives in a state folder (the public key under its secret name). */
export function localSigningKeyPaths(stateDir: string): { privateKeyPath: string; publicKeyPath: string } {
  const publicKeyPath = join(stateDir, LOCAL_SECRETS_DIR, LOCAL_SIGNING_PUBLIC_KEY_SECRET);
  return { publicKeyPath, privateKeyPath: join(dirname(publicKeyPath), 'cosign.key') };
}

/** Returns the state folder's key pair, generating it when either half is missing. */
export function ensureLocalSigningKey(stateDir: string): LocalSigningKey {
  const { privateKeyPath, publicKeyPath } = localSigningKeyPaths(stateDir);
  if (existsSync(privateKeyPath) && existsSync(publicKeyPath)) {
    return { privateKeyPath, publicKeyPath, publicKeyPem: readFileSync(publicKeyPath, 'utf8'), created: false };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  mkdirSync(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
  writeFileSync(privateKeyPath, privateKey, { mode: 0o600 });
  // writeFileSync's mode applies only to a new file: make sure an old one is not left readable.
  chmodSync(privateKeyPath, 0o600);
  writeFileSync(publicKeyPath, publicKey, { mode: 0o644 });
  return { privateKeyPath, publicKeyPath, publicKeyPem: publicKey, created: true };
}
