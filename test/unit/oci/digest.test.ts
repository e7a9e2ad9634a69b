import { describe, it, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifier, digestOf, isDigest, parseDigest, sha256Digest } from '../../../functions/oci/digest.ts';
import { OciError } from '../../../functions/oci/errors.ts';

async function run(data: Buffer[], verifier: DigestVerifier): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(data), verifier, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

describe('digests', () => {
  it('computes sha256 and sha512 digests', () => {
    expect(sha256Digest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(digestOf(Buffer.from('{}'))).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    const sha512 = `sha512:${createHash('sha512').update('x').digest('hex')}`;
    expect(digestOf(Buffer.from('x'), sha512)).toBe(sha512);
  });

  it.each([
    [`sha256:${'0'.repeat(64)}`, true],
    [`sha512:${'f'.repeat(128)}`, true],
    [`sha256:${'0'.repeat(63)}`, false],
    [`sha256:${'G'.repeat(64)}`, false],
    ['latest', false],
    [`sha1:${'0'.repeat(40)}`, false],
  ])('isDigest(%s) is %s', (value, ok) => {
    expect(isDigest(value)).toBe(ok);
  });

  it('parseDigest splits a good digest and quotes a bad one', () => {
    expect(parseDigest(`sha256:${'1'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: '1'.repeat(64) });
    expect(() => parseDigest('sha256:xyz')).toThrow(/invalid digest "sha256:xyz"/);
  });
});

describe('DigestVerifier', () => {
  const data = randomBytes(100_000);
  const digest = sha256Digest(data);
  const parts = [data.subarray(0, 3), data.subarray(3, 70_000), data.subarray(70_000)];

  it('passes the bytes through unchanged when digest and size match', async () => {
    const out = await run(parts, new DigestVerifier(digest, data.length));
    expect(out.equals(data)).toBe(true);
  });

  it.each([
    ['a different digest', `sha256:${'0'.repeat(64)}`, data.length, 'DIGEST_MISMATCH'],
    ['a larger expected size', digest, data.length + 1, 'SIZE_MISMATCH'],
    ['a smaller expected size', digest, data.length - 1, 'SIZE_MISMATCH'],
  ])('errors at the end for %s', async (_name, expected, size, code) => {
    const err = await run(parts, new DigestVerifier(expected, size)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe(code);
  });

  it('marks a short read as retryable and an over-long one as not', async () => {
    const short = (await run(parts, new DigestVerifier(digest, data.length + 10)).catch((e: unknown) => e)) as OciError;
    const long = (await run(parts, new DigestVerifier(digest, data.length - 10)).catch((e: unknown) => e)) as OciError;
    expect(short.retryable).toBe(true);
    expect(long.retryable).toBe(false);
  });
});
