// Pure: a gzip'd ustar archive of small files, built in memory (the demo image's layers: real tar+gzip, as docker writes them).
// Format: https://www.gnu.org/software/tar/manual/html_node/Standard.html
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, without a leading slash (`etc/demo-release`); at most 100 bytes. */
  readonly name: string;
  readonly data: Buffer;
  /** @default 0o644 */
  readonly mode?: number;
}

export interface TarGzip {
  /** The layer blob: gzip of the tar. */
  readonly gzip: Buffer;
  /** sha256 of the uncompressed tar: the image config's `rootfs.diff_ids` entry. */
  readonly diffId: string;
}

function header(entry: TarEntry, mtime: number): Buffer {
  if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name over 100 bytes: ${entry.name}`);
  const h = Buffer.alloc(BLOCK);
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  h.write(entry.name, 0, 'utf8');
  h.write(octal(entry.mode ?? 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(entry.data.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum is computed with its own field as spaces
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** The tar (entries in order, two zero blocks at the end) and its gzip; same input, same bytes. */
export function tarGzip(entries: readonly TarEntry[], mtime = 1_767_225_600): TarGzip {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime), e.data, Buffer.alloc((BLOCK - (e.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  const tar = Buffer.concat(parts);
  // gzipSync writes mtime 0 in the gzip header, so the blob's digest depends on the content only.
  return { gzip: gzipSync(tar, { level: 9 }), diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
}
