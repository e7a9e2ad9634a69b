// Real image layers for benchmarks: a tar of files (half random bytes, half compressible text), gzip-compressed,
// streamed straight into a registry while hashing both the compressed blob and the tar (the config's diff_id).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';

const BLOCK = 512;
const MiB = 1024 * 1024;

/** A ustar header for a regular file (https://www.gnu.org/software/tar/manual/html_node/Standard.html). */
export function tarHeader(name: string, size: number, mtime = 1_700_000_000): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (value: string, at: number, len: number): void => void h.write(value.slice(0, len), at, 'ascii');
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // checksum counted as spaces
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** Text that gzip compresses roughly 3–4×, like source files and configs in real layers. */
const WORDS = 'the quick brown fox jumps over lazy dog registry manifest layer digest blob config index tag push pull'.split(' ');
function textBytes(size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const line = Array.from({ length: 8 + randomInt(8) }, () => WORDS[randomInt(WORDS.length)]).join(' ') + ` ${randomInt(1e9)}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

export interface TarGzipLayer {
  /** The gzip stream to upload. */
  readonly stream: Readable;
  /** sha256 of the uncompressed tar, once the stream has ended (the config's `rootfs.diff_ids`). */
  diffId(): string;
}

/**
 * A gzip'd tar of files (4 KiB to 1 MiB each, alternating random and text content) whose compressed
 * size is about `compressedTarget` bytes: files are added until the gzip output reaches it.
 */
export function tarGzipLayer(compressedTarget: number, seed = randomBytes(4).toString('hex')): TarGzipLayer {
  const tarHash = createHash('sha256');
  const gzip = createGzip({ level: 6 });
  let compressed = 0;
  gzip.on('data', (c: Buffer) => (compressed += c.length));
  const files = (async function* (): AsyncGenerator<Buffer> {
    let i = 0;
    while (compressed < compressedTarget) {
      const size = Math.min(4096 + randomInt(MiB - 4096), Math.max(4096, (compressedTarget - compressed) * 2));
      const body = i % 2 === 0 ? randomBytes(size) : textBytes(size);
      const pad = Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
      for (const part of [tarHeader(`data/${seed}/f${i++}.bin`, size), body, pad]) {
        tarHash.update(part);
        yield part;
      }
      // Let gzip catch up so `compressed` is current before deciding on another file.
      await new Promise((r) => setImmediate(r));
    }
    const end = Buffer.alloc(BLOCK * 2);
    tarHash.update(end);
    yield end;
  })();
  const stream = Readable.from(files).pipe(gzip);
  let digest: string | undefined;
  return {
    stream,
    diffId: () => (digest ??= `sha256:${tarHash.digest('hex')}`),
  };
}
