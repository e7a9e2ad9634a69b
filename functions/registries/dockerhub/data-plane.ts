// Docker Hub's OCI data plane: the OCI client with a rate budget on its transport, HEAD before GET, and a manifest cache.
//
// Hub counts a GET of `/v2/*/manifests/*` as a pull; a HEAD is free and blob GETs do not count
// (https://docs.docker.com/docker-hub/usage/pulls/). So: every request waits while the credential
// is blocked by a 429; a manifest GET also takes one pull from the budget; and manifests are
// HEADed first and fetched only when their bytes are needed and not already cached by digest.
import { DelegatingRegistry } from '../../oci/delegating-registry.ts';
import { isDigest } from '../../oci/digest.ts';
import { isOciError } from '../../oci/errors.ts';
import type { Registry } from '../../oci/registry.ts';
import type { RequestFn, TransportRequest, TransportResponse } from '../../oci/transport.ts';
import type { Manifest } from '../../oci/types.ts';
import { RateLimitedError, type RateBudget } from '../rate-budget.ts';
import type { PullQuota, SharedPullBudget } from '../shared-pull-budget.ts';

const MANIFEST_PATH = /\/v2\/.+\/manifests\/[^/?]+(?:\?.*)?$/;

/** True for requests Docker Hub counts as a pull: a GET of a manifest. */
export function countsAsPull(req: Pick<TransportRequest, 'method' | 'path'>): boolean {
  return req.method === 'GET' && MANIFEST_PATH.test(req.path);
}

function replayable(req: TransportRequest): boolean {
  return req.body === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'function';
}

export interface BudgetHookOptions {
  readonly budget: RateBudget;
  /** The budget key of the client's credential (resolved once, lazily). */
  readonly budgetKey: () => Promise<string>;
  /** 429 rounds the hook retries itself (after the budget's wait) before giving up. @default 5 */
  readonly max429Retries?: number;
  /**
   * The pulls every invocation spends from the same account (DynamoDB): a pull is taken there too, and
   * a refusal blocks the credential here until the oldest pulls leave the rolling window (then the budget waits or defers).
   * Unreachable: the in-process budget and Hub's own 429s still hold. Its `resetAt` is read on `budget`'s clock. @default none
   */
  readonly shared?: { readonly budget: SharedPullBudget; readonly quota: PullQuota };
}

/**
 * A transport interceptor that puts a rate budget on every request of a RegistryClient: before a
 * request it waits on the budget; after it, it reads `ratelimit-*` headers; on a 429 it blocks the
 * credential for `Retry-After` and tries again through the budget, which waits or rejects with
 * RateLimitedError. The client must be built with `retry.maxRetryAfterMs: 0` so that 429s with a
 * Retry-After reach the interceptor instead of being slept through inside the transport.
 */
export function budgetInterceptor(host: string, options: BudgetHookOptions): (next: RequestFn) => RequestFn {
  const maxRetries = options.max429Retries ?? 5;
  return (next) => async (req: TransportRequest): Promise<TransportResponse> => {
    const key = await options.budgetKey();
    const cost = countsAsPull(req) ? 1 : 0;
    for (let round = 0; ; round++) {
      await options.budget.acquire(key, {
        cost,
        description: `${req.description} on ${host}`,
        registry: host,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (cost > 0 && options.shared !== undefined) {
        const grant = await options.shared.budget.take(key, cost, options.shared.quota).catch(() => undefined);
        if (grant?.granted === false) {
          // Other invocations spent the window: wait (or be deferred) until enough of it has rolled by, as after a 429.
          const wait = grant.resetAt - options.budget.now();
          options.budget.block(key, wait);
          if (round >= maxRetries) {
            throw new RateLimitedError(`${req.description} on ${host} deferred: the shared pull budget of ${key} is spent until ${new Date(grant.resetAt).toISOString()}`, {
              budgetKey: key, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), registry: host,
            });
          }
          continue;
        }
      }
      try {
        const res = await next(req);
        options.budget.observe(key, res.headers, res.status);
        return res;
      } catch (err) {
        if (!isOciError(err, 'TOO_MANY_REQUESTS') || err instanceof RateLimitedError) throw err;
        options.budget.observe(key, err.retryAfterSeconds !== undefined ? { retryAfterMs: err.retryAfterSeconds * 1000 } : {}, 429);
        if (!replayable(req) || round >= maxRetries) {
          throw new RateLimitedError(
            `${req.description} on ${host} was refused with 429 Too Many Requests; deferred. Re-queue it and retry later.`,
            { budgetKey: key, retryAfterSeconds: err.retryAfterSeconds ?? 60, registry: host, cause: err },
          );
        }
      }
    }
  };
}

export interface CachingRegistryOptions {
  /** Manifests kept, by repository and digest. @default 512 */
  readonly maxEntries?: number;
}

/**
 * A Registry that spends pulls only when it must: `manifestGet` by tag HEADs first (free) and GETs
 * by digest only on a cache miss; by digest it answers from the cache. Manifests are immutable by
 * digest; the cache is keyed by repository too, so it never claims a repository holds what only
 * another one does. Everything else passes through.
 */
export class CachingRegistry extends DelegatingRegistry {
  private readonly cache = new Map<string, Manifest>();
  private readonly maxEntries: number;
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(inner: Registry, options: CachingRegistryOptions = {}) {
    super(inner);
    this.maxEntries = options.maxEntries ?? 512;
  }

  /** The cached manifest of `repository@digest`, if any (no request). */
  cached(repository: string, digest: string): Manifest | undefined {
    return this.cache.get(`${repository}@${digest}`);
  }

  override async manifestGet(repository: string, reference: string): Promise<Manifest> {
    let digest = isDigest(reference) ? reference : undefined;
    if (digest === undefined) {
      const head = await this.inner.manifestHead(repository, reference);
      // Absent: let the GET produce the registry's own "manifest unknown" error.
      if (head === undefined) return this.inner.manifestGet(repository, reference);
      digest = head.digest;
    }
    const hit = this.cached(repository, digest);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    const manifest = await this.inner.manifestGet(repository, digest);
    this.remember(repository, manifest);
    return manifest;
  }

  override async manifestDelete(repository: string, digest: string): Promise<void> {
    this.cache.delete(`${repository}@${digest}`);
    await this.inner.manifestDelete(repository, digest);
  }

  private remember(repository: string, manifest: Manifest): void {
    const key = `${repository}@${manifest.digest}`;
    this.cache.delete(key);
    this.cache.set(key, manifest);
    // Map iteration is insertion order: the first key is the least recently stored.
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}
