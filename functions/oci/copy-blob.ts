// The blob ladder of the copy engine: same repository → skip; target has it → skip; same registry → mount; else stream.
// Also the shared copy state (limits, stats, events, failure fan-out) and in-flight de-duplication.
import type { Readable } from 'node:stream';
import { OciError } from './errors.ts';
import { Semaphore } from './retry.ts';
import type { CopyEvent, CopyEventListener } from './progress.ts';
import type { BlobOpener, Registry } from './registry.ts';
import type { Descriptor } from './types.ts';

/** The side of a copy: a registry handle and a repository in it. */
export interface CopyEndpoint {
  readonly registry: Registry;
  readonly repository: string;
}

/** Tunables of blob transfers, already defaulted. */
export interface BlobSettings {
  readonly concurrency: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  /** Blobs larger than this go up in PATCH chunks of `chunkSize` (resumable); Infinity = never. */
  readonly chunkThreshold: number;
  readonly chunkSize: number;
}

/** Counters of one copy operation. */
export interface CopyStats {
  uploaded: number;
  mounted: number;
  skipped: number;
  bytesUploaded: number;
  manifestPuts: number;
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * What an earlier, interrupted attempt of the same copy verified at the target, and where this attempt
 * reports its own progress (replication keeps it in the replication-state table, `blobs#` records).
 * A blob in `verified` is skipped without a HEAD; each blob this attempt finds or makes present is
 * reported once through `blobVerified`.
 */
export interface CopyResume {
  /** Blob digests already verified at this target repository. */
  readonly verified: ReadonlySet<string>;
  /** Called once per blob found (HEAD), mounted or uploaded at the target; must not throw. */
  blobVerified(digest: string): void;
}

/** Runs at most `n` tasks at once, in arrival order (the transport's semaphore, around a task). */
export function createLimiter(n: number): Limiter {
  const semaphore = new Semaphore(n);
  return async (task) => {
    const release = await semaphore.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  };
}

let nextContextId = 1;

/**
 * State shared by every step of one copy. The first failure aborts the internal signal so that
 * parallel transfers stop early, and is remembered as the real cause (later failures are mostly
 * "aborted" echoes of it).
 */
export class CopyContext {
  readonly id = nextContextId++;
  readonly stats: CopyStats = { uploaded: 0, mounted: 0, skipped: 0, bytesUploaded: 0, manifestPuts: 0 };
  readonly blobMemo = new Map<string, Promise<void>>();
  readonly limit: Limiter;
  readonly signal: AbortSignal;
  firstError: unknown;
  private readonly controller = new AbortController();

  constructor(
    readonly src: CopyEndpoint,
    readonly dst: CopyEndpoint,
    readonly settings: BlobSettings,
    readonly emit: CopyEventListener,
    readonly userSignal?: AbortSignal,
    readonly resume?: CopyResume,
  ) {
    this.limit = createLimiter(settings.concurrency);
    this.signal = userSignal ? AbortSignal.any([userSignal, this.controller.signal]) : this.controller.signal;
  }

  /** Records a failure and stops the other parallel work of this copy. */
  fail(err: unknown): void {
    if (this.firstError === undefined) this.firstError = err;
    if (!this.controller.signal.aborted) this.controller.abort(err);
  }

  /** Runs `fn` over every item in parallel; waits for all to settle, then throws the first failure. */
  async all<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
    const results = await Promise.allSettled(
      items.map(async (item) => {
        try {
          await fn(item);
        } catch (err) {
          this.fail(err);
          throw err;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw this.firstError ?? failed.reason;
  }
}

/** Memoises `fn` under `key`: the same key asked twice (even concurrently) runs once. */
export function memo<T>(map: Map<string, Promise<T>>, key: string, fn: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = fn();
    map.set(key, p);
  }
  return p;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True when a fresh attempt may succeed: a retryable OciError or a network-level failure (also as a cause). */
export function isRetryable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OciError) {
      if (e.retryable || e.code === 'NETWORK' || e.code === 'UNAVAILABLE' || e.code === 'TOO_MANY_REQUESTS') return true;
      continue;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if ((e as { name?: unknown }).name === 'AbortError') return false;
  }
  return false;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The longest Retry-After a copy waits out; a registry asking for more gets a deferral (tooLongToWait). */
export const MAX_RETRY_WAIT_MS = 60_000;

/** Exponential backoff with full jitter, never shorter than a server's Retry-After (capped at 60 s). */
export function backoffMs(attempt: number, baseMs: number, err: unknown): number {
  const jittered = Math.random() * baseMs * 2 ** (attempt - 1) + baseMs / 2;
  const retryAfter = err instanceof OciError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : 0;
  return Math.min(Math.max(jittered, retryAfter), MAX_RETRY_WAIT_MS);
}

/**
 * A registry that asks (Retry-After) for longer than a copy may wait: sleeping the capped 60 s three
 * times would fail anyway, an hour early. Returns the retryable error to throw at once, saying when
 * to retry; undefined when the wait is short enough.
 */
export function tooLongToWait(err: unknown, now: number = Date.now()): OciError | undefined {
  if (!(err instanceof OciError) || err.retryAfterSeconds === undefined || err.retryAfterSeconds * 1000 <= MAX_RETRY_WAIT_MS) return undefined;
  const at = new Date(now + err.retryAfterSeconds * 1000).toISOString();
  return new OciError(
    `${err.registry ?? 'the registry'} asks to wait ${err.retryAfterSeconds} s (Retry-After), longer than a copy waits (${MAX_RETRY_WAIT_MS / 1000} s): retry after ${at}`,
    { code: 'TOO_MANY_REQUESTS', retryable: true, cause: err, retryAfterSeconds: err.retryAfterSeconds, ...(err.registry !== undefined ? { registry: err.registry } : {}) },
  );
}

/** `resumed`: an earlier attempt verified it (counted as skipped). */
type LadderOutcome = 'uploaded' | 'mounted' | 'skipped' | 'resumed';

/** Transfers running anywhere in this process, keyed by target host + repository + digest. */
const inflight = new Map<string, { owner: number; promise: Promise<LadderOutcome> }>();

/** Foreign (non-distributable) layers are fetched by clients from their `urls`; registries do not hold them. */
function isForeign(d: Descriptor): boolean {
  return /foreign|nondistributable/.test(d.mediaType) && (d.urls?.length ?? 0) > 0;
}

/**
 * Makes one blob present at the target. Asked twice for the same digest in one copy, it runs once;
 * a transfer of the same digest to the same target by a concurrent copy is awaited instead of repeated.
 */
export function copyBlob(ctx: CopyContext, desc: Descriptor): Promise<void> {
  return memo(ctx.blobMemo, desc.digest, () => ctx.limit(() => transferOnce(ctx, desc)));
}

async function transferOnce(ctx: CopyContext, desc: Descriptor): Promise<void> {
  ctx.signal.throwIfAborted();
  const key = `${ctx.dst.registry.host}/${ctx.dst.repository}@${desc.digest}`;
  const running = inflight.get(key);
  if (running && running.owner !== ctx.id) {
    try {
      await running.promise;
      record(ctx, desc, 'skipped', 'transferred by a concurrent copy');
      return;
    } catch {
      // The other copy failed; do our own transfer below.
    }
  }
  const promise = ladder(ctx, desc);
  const entry = { owner: ctx.id, promise };
  inflight.set(key, entry);
  try {
    const outcome = await promise;
    if (outcome === 'uploaded') ctx.stats.bytesUploaded += desc.size;
    ctx.stats[outcome === 'resumed' ? 'skipped' : outcome]++;
    if (outcome !== 'resumed') ctx.resume?.blobVerified(desc.digest);
  } catch (err) {
    ctx.emit(event(desc, 'failed', { reason: err instanceof Error ? err.message : String(err) }));
    throw err;
  } finally {
    if (inflight.get(key) === entry) inflight.delete(key);
  }
}

function event(desc: Descriptor, phase: CopyEvent['phase'], extra: Partial<CopyEvent> = {}): CopyEvent {
  return { type: 'blob', phase, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, ...extra };
}

function record(ctx: CopyContext, desc: Descriptor, outcome: 'skipped', reason: string): void {
  ctx.stats[outcome]++;
  ctx.emit(event(desc, 'skipped', { reason }));
}

async function ladder(ctx: CopyContext, desc: Descriptor): Promise<LadderOutcome> {
  const { src, dst } = ctx;
  const sameHost = src.registry.host === dst.registry.host;
  ctx.emit(event(desc, 'started'));
  if (isForeign(desc)) {
    ctx.emit(event(desc, 'skipped', { reason: 'foreign layer (fetched from its urls, not stored in registries)' }));
    return 'skipped';
  }
  if (sameHost && src.repository === dst.repository) {
    ctx.emit(event(desc, 'skipped', { reason: 'same repository' }));
    return 'skipped';
  }
  if (ctx.resume?.verified.has(desc.digest)) {
    ctx.emit(event(desc, 'skipped', { reason: 'verified at the target by an earlier attempt' }));
    return 'resumed';
  }
  if ((await dst.registry.blobHead(dst.repository, desc.digest)) !== undefined) {
    ctx.emit(event(desc, 'skipped', { reason: 'target has it' }));
    return 'skipped';
  }
  ctx.signal.throwIfAborted();
  if (sameHost && (await dst.registry.blobMount(dst.repository, desc.digest, src.repository))) {
    ctx.emit(event(desc, 'mounted', { reason: `from ${src.repository}` }));
    return 'mounted';
  }
  await uploadWithRetry(ctx, desc);
  ctx.emit(event(desc, 'finished', { bytes: desc.size }));
  return 'uploaded';
}

/**
 * Streams GET → PUT; on a retryable failure, starts again from a fresh GET after a backoff.
 *
 * The source stream is opened before the upload session exists (POST), and it may fail while nothing
 * reads it yet: a connection reset, or this copy's abort cancelling its GET. Each attempt therefore
 * watches its source streams itself: a source error aborts the attempt (so the upload stops at once
 * instead of waiting for a body that will never come) and is reported as the cause. Without this
 * listener the error would be an uncaught exception that kills the process.
 */
async function uploadWithRetry(ctx: CopyContext, desc: Descriptor): Promise<void> {
  const { src, dst, settings, signal } = ctx;
  const { digest, size } = desc;
  const onBytes = (sent: number): void => ctx.emit(event(desc, 'progress', { bytes: sent }));
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const opened: Readable[] = [];
    const attemptController = new AbortController();
    const attemptSignal = AbortSignal.any([signal, attemptController.signal]);
    let sourceError: unknown;
    const watch = (stream: Readable): Readable => {
      opened.push(stream);
      stream.on('error', (err) => {
        sourceError ??= err;
        attemptController.abort(err);
      });
      return stream;
    };
    try {
      if (size > settings.chunkThreshold) {
        // Resumable: the client reopens the source from the offset the registry reports.
        const opener: BlobOpener = async (offset) => {
          const reader = await src.registry.blobGet(
            src.repository,
            digest,
            offset > 0 ? { offset, signal: attemptSignal } : { expectedSize: size, signal: attemptSignal },
          );
          return watch(reader.stream);
        };
        await dst.registry.blobPut(dst.repository, { digest, size }, opener, { chunkSize: settings.chunkSize, signal: attemptSignal, onBytes });
      } else {
        const reader = await src.registry.blobGet(src.repository, digest, { expectedSize: size, signal: attemptSignal });
        await dst.registry.blobPut(dst.repository, { digest, size }, watch(reader.stream), { signal: attemptSignal, onBytes });
      }
      return;
    } catch (caught) {
      for (const s of opened) s.destroy();
      // An upload aborted because its source failed reports the source's failure, the real cause.
      const err = !signal.aborted && sourceError !== undefined ? sourceError : caught;
      if (signal.aborted || attempt >= settings.retries || !isRetryable(err)) throw err;
      const deferral = tooLongToWait(err);
      if (deferral) throw deferral;
      ctx.emit(event(desc, 'retrying', { reason: err instanceof Error ? err.message : String(err) }));
      await sleep(backoffMs(attempt + 1, settings.retryDelayMs, err), signal);
    }
  }
}
