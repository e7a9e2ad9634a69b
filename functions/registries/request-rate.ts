// `rateLimit.requestsPerSecond`: a token bucket per registry (per credential on Docker Hub), shared by every
// copy in the process, put in front of every request of the registry's client as a transport interceptor, and
// in front of the API calls an adapter makes besides the OCI data plane (ECR's SDK client, Docker Hub's API).
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import type { RequestFn, TransportRequest, TransportResponse } from '../oci/transport.ts';
import { sleep as realSleep } from '../oci/retry.ts';

export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Tokens held at most (requests that may go at once after a quiet spell). @default max(1, ceil(rate)) */
  readonly burst?: number;
  /** @default performance.now */
  readonly now?: () => number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket: `take()` resolves when a token is available, in arrival order. Starts full.
 *
 * @example
 * const bucket = new TokenBucket({ ratePerSecond: 5 });
 * await bucket.take(); // at most 5 per second on average, bursts of 5
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst ?? Math.max(1, Math.ceil(options.ratePerSecond));
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? realSleep;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Waits for a token and spends it. Callers are served one after another (no starvation). */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.spend());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }

  private async spend(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      await this.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
      this.refill();
    }
    this.tokens -= 1;
  }
}

/** Buckets by key, for the whole process: every adapter and copy of one registry shares its bucket. */
const buckets = new Map<string, TokenBucket>();

/**
 * The process-wide bucket for `key` (a registry name, or Docker Hub `host|account`). A config
 * reload that changes the rate replaces the bucket.
 */
export function sharedTokenBucket(key: string, ratePerSecond: number): TokenBucket {
  const existing = buckets.get(key);
  if (existing?.ratePerSecond === ratePerSecond) return existing;
  const bucket = new TokenBucket({ ratePerSecond });
  buckets.set(key, bucket);
  return bucket;
}

/**
 * A transport interceptor that takes a token before each request. `bucketFor` may be async: Docker Hub's bucket is
 * per credential, known only once the credentials are read.
 */
export function requestRateInterceptor(bucketFor: () => TokenBucket | Promise<TokenBucket>): (next: RequestFn) => RequestFn {
  return (next) => async (req: TransportRequest): Promise<TransportResponse> => {
    await (await bucketFor()).take();
    return next(req);
  };
}

/** A fetch that takes a token before each call (Docker Hub's API client). */
export function pacedFetch(fetchImpl: typeof fetch, bucketFor: () => TokenBucket | Promise<TokenBucket>): typeof fetch {
  return async (input, init) => {
    await (await bucketFor()).take();
    return fetchImpl(input, init);
  };
}

const SDK_MIDDLEWARE = 'regmanRequestRate';

/**
 * Takes a token before each HTTP attempt of an AWS SDK v3 client (finalizeRequest, low priority: inside the
 * SDK's own retry, so a retried call pays again). Adding it twice to one client is a no-op.
 */
export function paceSdkClient<I extends object, O extends object>(client: { readonly middlewareStack: MiddlewareStack<I, O> }, bucketFor: () => TokenBucket): void {
  if (client.middlewareStack.identify().some((m) => m.startsWith(`${SDK_MIDDLEWARE} `))) return;
  const pace: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    await bucketFor().take();
    return next(args);
  };
  client.middlewareStack.add(pace, { step: 'finalizeRequest', priority: 'low', name: SDK_MIDDLEWARE });
}

/** Runs `inner` inside `outer`: outer(inner(next)). Either may be absent. */
export function composeInterceptors(
  outer: ((next: RequestFn) => RequestFn) | undefined,
  inner: ((next: RequestFn) => RequestFn) | undefined,
): ((next: RequestFn) => RequestFn) | undefined {
  if (outer === undefined) return inner;
  if (inner === undefined) return outer;
  return (next) => outer(inner(next));
}
