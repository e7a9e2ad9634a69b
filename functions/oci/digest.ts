// Content digests: computing them, validating their syntax, and verifying a stream while it flows.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { OciError } from './errors.ts';

/** Hex length of each algorithm the image spec registers (image-spec descriptor.md#registered-algorithms). */
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
}

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Why `digest` is not a valid sha256/sha512 digest, or undefined when it is. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0) return 'a digest is "<algorithm>:<hex>", e.g. sha256:<64 hex characters>';
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = HEX_LENGTH[algorithm];
  if (want === undefined) return `digest algorithm "${algorithm}" is not supported (use sha256 or sha512)`;
  if (!/^[0-9a-f]*$/.test(hex)) return `the ${algorithm} digest must be lowercase hexadecimal`;
  if (hex.length !== want) return `a ${algorithm} digest has ${want} hex characters, this one has ${hex.length}`;
  return undefined;
}

/** Splits and validates a digest; INVALID_REFERENCE when malformed. */
export function parseDigest(digest: string): ParsedDigest {
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw new OciError(`invalid digest "${digest}": ${problem}`, { code: 'INVALID_REFERENCE' });
  }
  const [algorithm, hex] = digest.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

/** True when `value` is a well-formed digest (tag vs digest decisions). */
export function isDigest(value: string): boolean {
  return digestProblem(value) === undefined;
}

/** Digest of `data` with the same algorithm as `like` (sha256 by default). */
export function digestOf(data: Buffer, like?: string): string {
  const algorithm = like?.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/**
 * Passes bytes through unchanged while hashing them; at the end it fails the stream with
 * DIGEST_MISMATCH or SIZE_MISMATCH instead of ending it, so a consumer that pipes it into an upload
 * aborts rather than committing wrong bytes.
 */
export class DigestVerifier extends Transform {
  readonly expectedDigest: string;
  readonly expectedSize: number | undefined;
  private readonly hash: Hash;
  private bytes = 0;

  constructor(expectedDigest: string, expectedSize?: number, private readonly context = 'blob') {
    super();
    const { algorithm } = parseDigest(expectedDigest);
    this.expectedDigest = expectedDigest;
    this.expectedSize = expectedSize;
    this.hash = createHash(algorithm);
  }

  /** Bytes seen so far. */
  get bytesSeen(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      done(this.sizeError());
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      done(this.sizeError());
      return;
    }
    const actual = `${this.expectedDigest.slice(0, this.expectedDigest.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (actual !== this.expectedDigest) {
      done(
        new OciError(
          `${this.context} content does not match its digest: expected ${this.expectedDigest}, got ${actual}. ` +
            'The registry served corrupted or different bytes; retry, and if it persists, re-push the image.',
          { code: 'DIGEST_MISMATCH' },
        ),
      );
      return;
    }
    done();
  }

  private sizeError(): OciError {
    return new OciError(
      `${this.context} ${this.expectedDigest} has the wrong size: expected ${this.expectedSize} bytes, ` +
        `got ${this.bytes > (this.expectedSize ?? 0) ? 'more than that' : this.bytes}. The transfer was cut short or the descriptor is wrong.`,
      { code: 'SIZE_MISMATCH', retryable: this.bytes < (this.expectedSize ?? 0) },
    );
  }
}
