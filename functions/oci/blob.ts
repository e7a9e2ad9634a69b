// Blob operations: HEAD, streaming GET with in-flight digest check, streaming monolithic or chunked resumable PUT, cross-repo mount.
// API: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { OciError, isOciError } from './errors.ts';
import { DigestVerifier, parseDigest } from './digest.ts';
import { drain, header, type Transport } from './transport.ts';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader } from './registry.ts';

const blobPath = (repository: string, digest: string): string => `/v2/${repository}/blobs/${digest}`;
const uploadsPath = (repository: string): string => `/v2/${repository}/blobs/uploads/`;

/** Size of a blob, or undefined on 404. */
export async function blobHead(t: Transport, repository: string, digest: string): Promise<number | undefined> {
  parseDigest(digest);
  const res = await t.request({
    method: 'HEAD', repository, path: blobPath(repository, digest), expect: [200, 404], followRedirects: true,
    description: `HEAD blob ${repository}@${digest}`,
  });
  await drain(res.body);
  if (res.status === 404) return undefined;
  const length = Number(header(res.headers, 'content-length'));
  if (!Number.isFinite(length)) {
    throw new OciError(`HEAD blob ${repository}@${digest} on ${t.host} answered without a Content-Length`, { code: 'PROTOCOL', registry: t.host });
  }
  return length;
}

/**
 * Streams a blob. From offset 0 the stream is a DigestVerifier: it errors with DIGEST_MISMATCH or
 * SIZE_MISMATCH at the end instead of ending. Redirects to storage hosts are followed without our
 * Authorization header.
 */
export async function blobGet(t: Transport, repository: string, digest: string, options: BlobGetOptions = {}): Promise<BlobReader> {
  parseDigest(digest);
  const offset = options.offset ?? 0;
  const res = await t.request({
    method: 'GET', repository, path: blobPath(repository, digest), expect: offset > 0 ? [206] : [200], followRedirects: true,
    ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    description: `GET blob ${repository}@${digest}${offset > 0 ? ` from byte ${offset}` : ''}`,
  });
  const lengthHeader = header(res.headers, 'content-length');
  const contentLength = lengthHeader !== undefined ? Number(lengthHeader) : undefined;
  const expectedRemaining = options.expectedSize !== undefined ? options.expectedSize - offset : undefined;
  if (expectedRemaining !== undefined && contentLength !== undefined && contentLength !== expectedRemaining) {
    res.body.destroy();
    throw new OciError(
      `blob ${repository}@${digest} on ${t.host} is ${contentLength + offset} bytes, the descriptor says ${options.expectedSize}; the source image is inconsistent`,
      { code: 'SIZE_MISMATCH', registry: t.host },
    );
  }
  const size = (contentLength ?? expectedRemaining ?? 0) + offset;
  const description = `GET blob ${repository}@${digest} from ${t.host}`;
  // A resumed read cannot hash what it skipped; the target's digest check on commit covers it.
  const out = offset > 0 ? new PassThrough() : new DigestVerifier(digest, options.expectedSize ?? contentLength, `blob ${repository}@${digest} from ${t.host}`);
  // A connection cut mid-body surfaces as a typed, retryable NETWORK error on the returned stream.
  res.body.once('error', (err) => out.destroy(isOciError(err) ? err : t.streamError(err, description, repository)));
  // A consumer that gives up (destroys the stream) releases the connection too.
  out.once('close', () => {
    if (!res.body.readableEnded) res.body.destroy();
  });
  res.body.pipe(out);
  return { size, stream: out };
}

/** Counts bytes as they pass, for `onBytes` progress. */
function counter(onBytes: ((sent: number) => void) | undefined, start = 0): Transform {
  let sent = start;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      onBytes?.(sent);
      done(null, chunk);
    },
  });
}

/**
 * Starts an upload session; returns its Location. The POST itself does not take the signal: aborted
 * halfway, the registry would hold a session whose Location we never learn. An abort is checked once
 * the answer is in, and the fresh session cancelled.
 */
async function startUpload(t: Transport, repository: string, digest: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const what = `start upload of blob ${repository}@${digest}`;
  const res = await t.request({
    method: 'POST', repository, path: uploadsPath(repository), expect: [202], actions: ['pull', 'push'], description: what,
  });
  await drain(res.body);
  const location = requireLocation(t, res.headers, what);
  if (signal?.aborted) {
    await cancelUpload(t, repository, location, what);
    signal.throwIfAborted();
  }
  return location;
}

function requireLocation(t: Transport, headers: Record<string, string | string[] | undefined>, what: string): string {
  const location = header(headers, 'location');
  if (location === undefined || location === '') {
    throw new OciError(`${what} on ${t.host}: the registry sent no Location header`, { code: 'PROTOCOL', registry: t.host });
  }
  return t.resolve(location).toString();
}

/**
 * Cancels an upload session we are abandoning (distribution-spec "Canceling an Upload": DELETE on its
 * Location), so it does not linger in the registry's `_uploads` until its purge job runs. Best effort:
 * a session the registry already dropped answers 404, and any failure here is swallowed because the
 * caller is already failing with the real cause. Never uses the caller's (maybe aborted) signal.
 */
export async function cancelUpload(t: Transport, repository: string, location: string, what: string): Promise<void> {
  await t
    .request({
      method: 'DELETE', repository, path: location, expect: [204, 404], actions: ['pull', 'push'], retry: false,
      description: `${what}: cancel upload`,
    })
    .then((r) => drain(r.body))
    .catch(() => undefined);
}

/** Appends `?digest=` to an upload Location, keeping its own query (distribution's `_state`). */
function withDigest(t: Transport, location: string, digest: string): string {
  const url = t.resolve(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/**
 * Uploads a blob. Monolithic: POST, then one streamed PUT ?digest= (distribution 2.8 ignores a body
 * on the POST). Chunked (`chunkSize` and a BlobOpener): PATCH chunks of at most `chunkSize` bytes,
 * and after a failure ask the registry how much it holds (`Range: 0-N`), reopen the source at N+1
 * and go on. Resolves once the registry committed the blob (it checks the digest).
 */
export async function blobPut(
  t: Transport,
  repository: string,
  blob: { digest: string; size: number },
  body: Readable | BlobOpener,
  options: BlobPutOptions = {},
): Promise<void> {
  parseDigest(blob.digest);
  if (options.chunkSize !== undefined && typeof body === 'function') {
    if (!(options.chunkSize > 0)) throw new OciError(`chunkSize must be a positive number of bytes, got ${options.chunkSize}`, { code: 'PROTOCOL' });
    return chunkedPut(t, repository, blob, body, options);
  }
  if (typeof body !== 'function') return monolithicPut(t, repository, blob, body, options);
  // An opener can be reopened, so a failed monolithic upload starts over in a fresh session.
  for (let attempt = 1; ; attempt++) {
    try {
      return await monolithicPut(t, repository, blob, await body(0), options);
    } catch (err) {
      if (!isOciError(err) || !err.retryable || attempt >= t.maxAttempts || options.signal?.aborted) throw err;
      await t.backoff(attempt);
    }
  }
}

async function monolithicPut(t: Transport, repository: string, blob: { digest: string; size: number }, body: Readable, options: BlobPutOptions): Promise<void> {
  let location: string;
  try {
    location = await startUpload(t, repository, blob.digest, options.signal);
  } catch (err) {
    body.destroy();
    throw err;
  }
  const counted = pipeline(body, counter(options.onBytes), () => undefined);
  try {
    const res = await t.request({
      method: 'PUT', repository, path: withDigest(t, location, blob.digest), expect: [201], actions: ['pull', 'push'],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      body: counted,
      ...(options.signal ? { signal: options.signal } : {}),
      description: `upload blob ${repository}@${blob.digest} (${blob.size} bytes)`,
    });
    await drain(res.body);
  } catch (err) {
    // The registry may answer before reading everything; do not leave the source half-read.
    body.destroy();
    await cancelUpload(t, repository, location, `upload blob ${repository}@${blob.digest}`);
    throw err;
  }
}

/** Reads a stream as Buffers of exactly `size` bytes (the last one shorter). Holds at most one chunk. */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of stream) {
    let buf = piece as Buffer;
    while (buf.length > 0) {
      const take = Math.min(size - held, buf.length);
      parts.push(buf.subarray(0, take));
      held += take;
      buf = buf.subarray(take);
      if (held === size) {
        yield Buffer.concat(parts, held);
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

async function chunkedPut(t: Transport, repository: string, blob: { digest: string; size: number }, open: BlobOpener, options: BlobPutOptions): Promise<void> {
  const chunkSize = options.chunkSize ?? 0;
  const what = `upload blob ${repository}@${blob.digest} in chunks`;
  let location = await startUpload(t, repository, blob.digest, options.signal);
  try {
    let offset = 0;
    let failures = 0;
    while (offset < blob.size) {
      const source = await open(offset);
      try {
        for await (const chunk of chunksOf(source, chunkSize)) {
          const end = offset + chunk.length - 1;
          const res = await t.request({
            method: 'PATCH', repository, path: location, expect: [202], actions: ['pull', 'push'],
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}` },
            body: chunk,
            // Not retried here: after a failure the registry may hold part of the chunk; we ask it below.
            retry: false,
            ...(options.signal ? { signal: options.signal } : {}),
            description: `${what}: bytes ${offset}-${end}`,
          });
          await drain(res.body);
          location = requireLocation(t, res.headers, what);
          offset = end + 1;
          options.onBytes?.(offset);
          if (offset > blob.size) {
            throw new OciError(`${what}: the source gave more than the ${blob.size} bytes expected`, { code: 'SIZE_MISMATCH' });
          }
        }
        if (offset < blob.size) {
          throw new OciError(`${what}: the source ended after ${offset} of ${blob.size} bytes`, { code: 'SIZE_MISMATCH' });
        }
      } catch (err) {
        source.destroy();
        // A 416 means our offset and the registry's disagree: ask it where it is, as after a cut.
        const retryable = !isOciError(err) || err.retryable || err.code === 'NETWORK' || err.status === 416;
        if (!retryable || options.signal?.aborted || ++failures >= t.maxAttempts) throw err;
        await t.backoff(failures);
        // Ask the registry how far it got, and resume from there.
        try {
          const status = await t.request({
            method: 'GET', repository, path: location, expect: [204], actions: ['pull', 'push'],
            description: `${what}: upload status`,
          });
          await drain(status.body);
          location = requireLocation(t, status.headers, what);
          offset = rangeEnd(header(status.headers, 'range')) + 1;
        } catch (statusErr) {
          if (isOciError(statusErr) && (statusErr.code === 'UNAUTHORIZED' || statusErr.code === 'DENIED')) throw statusErr;
          // distribution 2.8 signs the offset into the Location's `_state`; once part of a failed
          // PATCH reached its storage, that state no longer matches and it answers 404
          // BLOB_UPLOAD_INVALID. The session is lost: cancel what is left of it, start a new one from byte 0.
          await cancelUpload(t, repository, location, what);
          location = await startUpload(t, repository, blob.digest, options.signal);
          offset = 0;
        }
      }
    }
    const res = await t.request({
      method: 'PUT', repository, path: withDigest(t, location, blob.digest), expect: [201], actions: ['pull', 'push'],
      body: Buffer.alloc(0),
      headers: { 'content-type': 'application/octet-stream' },
      ...(options.signal ? { signal: options.signal } : {}),
      description: `${what}: commit`,
    });
    await drain(res.body);
  } catch (err) {
    // Giving up: cancel the session rather than leave its bytes in the registry's _uploads.
    await cancelUpload(t, repository, location, what);
    throw err;
  }
}

/** The last byte index in `Range: 0-N` (-1 when the registry holds nothing). */
export function rangeEnd(range: string | undefined): number {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  return m?.[1] !== undefined ? Number(m[1]) : -1;
}

/** Cross-repository mount: true when mounted (201); on 202 the opened session is cancelled and false returned. */
export async function blobMount(t: Transport, repository: string, digest: string, fromRepository: string): Promise<boolean> {
  parseDigest(digest);
  const description = `mount blob ${digest} from ${fromRepository} into ${repository}`;
  const res = await t.request({
    method: 'POST', repository, path: uploadsPath(repository), query: { mount: digest, from: fromRepository },
    expect: [201, 202], actions: ['pull', 'push'], scopes: [`repository:${fromRepository}:pull`], description,
  });
  await drain(res.body);
  if (res.status === 201) return true;
  const location = header(res.headers, 'location');
  // The registry opened an upload instead; cancel it so it does not linger.
  if (location !== undefined) await cancelUpload(t, repository, location, description);
  return false;
}

/** A Readable from a Buffer, for callers that have small blobs in hand. */
export function bufferOpener(data: Buffer): BlobOpener {
  return async (offset) => Readable.from([data.subarray(offset)]);
}
