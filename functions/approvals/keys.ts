// The HMAC key that signs links and CSRF tokens: a Secrets Manager secret in AWS, a key file in the state folder locally.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApprovalError } from './errors.ts';

/** Keys shorter than this are refused: HMAC-SHA256 wants at least its output size. */
export const MIN_KEY_BYTES = 32;

function checked(key: Buffer, where: string): Buffer {
  if (key.length < MIN_KEY_BYTES) {
    throw new ApprovalError('APPROVAL_STORE', 500, `The approval signing key in ${where} is ${key.length} bytes; it needs at least ${MIN_KEY_BYTES}. Replace it with 32 random bytes (base64).`);
  }
  return key;
}

/** Reads `<file>` (base64), creating it with 32 random bytes, mode 0600, on first use. */
export async function fileKey(file: string): Promise<Buffer> {
  try {
    return checked(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true });
  const key = randomBytes(32);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fileKey(file);
    throw err;
  }
}

/** The key from a secret's text (base64 of at least 32 bytes, as the CDK-generated secret holds). */
export function keyFromSecretText(text: string, secret: string): Buffer {
  return checked(Buffer.from(text.trim(), 'base64'), `secret ${secret}`);
}
