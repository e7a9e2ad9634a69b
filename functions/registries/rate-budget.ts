// A per-credential rate budget: learns the remaining quota from response headers and defers work before it runs out.
//
// Docker Hub answers manifest requests with `ratelimit-limit: 100;w=21600` and
// `ratelimit-remaining: 76;w=21600` (pulls per window of `w` seconds), and a 429 with `Retry-After`
// once the quota is spent (https://docs.docker.com/docker-hub/usage/pulls/). The same header shape
// is the IETF RateLimit draft (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/),
// so other registries can reuse this budget.
import type { IncomingHttpHeaders } from 'node:http';
import { OciError } from '../oci/errors.ts';
import { parseRetryAfter, sleep as realSleep } from '../oci/retry.ts';
import { liveSlots, rollingTake, slotExpiry } from './rolling-window.ts';

/** One `ratelimit-*` header value: `76;w=21600` → { value: 76, windowSeconds: 21600 }. */
export interface RateLimitHeaderValue {
  readonly value: number;
  readonly windowSeconds?: number;
}

/** What one response says about the quota. Every field is optional: most responses say nothing. */
export interface RateLimitObservation {
  readonly limit?: number;
  readonly remaining?: number;
  readonly windowSeconds?: number;
  /** Milliseconds a 429's `Retry-After` asks for. */
  readonly retryAfterMs?: number;
}

/** Headers as node:http gives them, or a fetch `Headers`. */
export type HeaderSource = IncomingHttpHeaders | Headers | Readonly<Record<string, string | undefined>>;

/**
 * Parses one `ratelimit-limit` / `ratelimit-remaining` value. Accepts `100`, `100;w=21600` and
 * several comma-separated policies (the smallest value wins, as the draft says the tightest applies).
 * Undefined when absent or unreadable.
 */
export function parseRateLimitHeader(value: string | undefined): RateLimitHeaderValue | undefined {
  if (value === undefined) return undefined;
  let best: RateLimitHeaderValue | undefined;
  for (const policy of value.split(',')) {
    const [head, ...params] = policy.split(';').map((p) => p.trim());
    if (head === undefined || !/^\d+$/.test(head)) continue;
    const n = Number(head);
    const w = params.map((p) => /^w\s*=\s*(\d+)$/i.exec(p)?.[1]).find((x) => x !== undefined);
    if (best === undefined || n < best.value) best = { value: n, ...(w !== undefined ? { windowSeconds: Number(w) } : {}) };
  }
  return best;
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const v = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads `ratelimit-limit`, `ratelimit-remaining` and `retry-after` from response headers. */
export function rateLimitFromHeaders(headers: HeaderSource, now: number = Date.now()): RateLimitObservation {
  const limit = parseRateLimitHeader(headerValue(headers, 'ratelimit-limit'));
  const remaining = parseRateLimitHeader(headerValue(headers, 'ratelimit-remaining'));
  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), now);
  const windowSeconds = remaining?.windowSeconds ?? limit?.windowSeconds;
  return {
    ...(limit !== undefined ? { limit: limit.value } : {}),
    ...(remaining !== undefined ? { remaining: remaining.value } : {}),
    ...(windowSeconds !== undefined ? { windowSeconds } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/**
 * Work was deferred because the credential's budget is spent (or the registry said 429) and the
 * wait is longer than the caller allows. Retryable: re-queue the work after `retryAfterSeconds`
 * instead of failing it. It is an OciError (code TOO_MANY_REQUESTS) so that it passes through the
 * OCI client and the copy engine keeps it as the `cause` of a retryable COPY_INCOMPLETE.
 */
export class RateLimitedError extends OciError {
  /** Branch on this: the typed "deferred, not failed" marker. */
  readonly reason = 'RATE_LIMITED' as const;
  override readonly retryAfterSeconds: number;
  /** The budget key (registry and account name; never a secret). */
  readonly budgetKey: string;

  constructor(message: string, options: { budgetKey: string; retryAfterSeconds: number; registry?: string; cause?: unknown }) {
    super(message, {
      code: 'TOO_MANY_REQUESTS',
      retryable: true,
      retryAfterSeconds: options.retryAfterSeconds,
      ...(options.registry !== undefined ? { registry: options.registry } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.budgetKey = options.budgetKey;
  }
}

/** True for a RateLimitedError, also when it is the `cause` of another error (a COPY_INCOMPLETE). */
export function isRateLimitedError(err: unknown): err is RateLimitedError {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof RateLimitedError) return true;
  }
  return false;
}

/** The RateLimitedError in `err` or its causes, if any. */
export function findRateLimitedError(err: unknown): RateLimitedError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof RateLimitedError) return e;
  }
  return undefined;
}

export interface RateBudgetOptions {
  /**
   * Units kept back: work that would take the remaining quota below this waits. Leaves pulls for
   * people and CI sharing the account. @default 0
   */
  readonly reserve?: number;
  /** Longest wait accepted before rejecting with RateLimitedError. @default 60000 */
  readonly maxWaitMs?: number;
  /** Window assumed when the headers carry no `w=`. @default 21600 (Docker Hub's six hours) */
  readonly defaultWindowSeconds?: number;
  /** Block after a 429 that has no `Retry-After`. @default 60000 */
  readonly default429BlockMs?: number;
  /** Injected in tests. */
  readonly now?: () => number;
  /** Injected in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the budget knows of one credential. */
export interface BudgetState {
  readonly limit?: number;
  /** The limit minus the units counted in the rolling window: the work started here, and what the registry reported beyond it. */
  readonly remaining?: number;
  /** When (epoch ms) the last unit still counted leaves the window, so the quota is whole again. */
  readonly resetAt?: number;
  /** A 429 asked us to wait until then (epoch ms). */
  readonly blockedUntil?: number;
}

interface MutableState {
  limit?: number;
  windowSeconds?: number;
  /** Units spent per slot of the rolling window (rolling-window.ts), once a limit is known. */
  slots: Record<string, number>;
  blockedUntil?: number;
}

export interface AcquireOptions {
  /** Units this work spends (a manifest GET is one pull; a HEAD is 0). @default 1 */
  readonly cost?: number;
  readonly signal?: AbortSignal;
  /** For messages, e.g. `GET manifest team/app:1.0 on registry-1.docker.io`. */
  readonly description?: string;
  /** Registry host, for the error's `registry`. */
  readonly registry?: string;
}

/**
 * Remaining quota per credential (`key`: registry host plus account name, never a secret). Share one
 * instance between every adapter that uses the same credential, so they spend from one budget.
 *
 * Docker Hub's window is rolling: a pull stops counting one window after it was made, so quota comes
 * back gradually, and the headers do not say when. The budget counts its units in the same rolling
 * window as the shared budget (rolling-window.ts): each unit it lets through from the time it did;
 * units the registry reports beyond those (other clients of the account, pulls before this process)
 * as spent at the report, the latest they can have been, so that none is forgotten before the registry
 * forgets it.
 *
 * @example
 * const budget = new RateBudget({ reserve: 10, maxWaitMs: 30_000 });
 * await budget.acquire('registry-1.docker.io|ci', { cost: 1 }); // waits, or throws RateLimitedError
 * const res = await fetchManifest();
 * budget.observe('registry-1.docker.io|ci', res.headers);
 */
export class RateBudget {
  readonly reserve: number;
  readonly maxWaitMs: number;
  /** The budget's clock (epoch ms): every wait and window is on it. Date.now unless injected. */
  readonly now: () => number;
  private readonly defaultWindowSeconds: number;
  private readonly default429BlockMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly states = new Map<string, MutableState>();

  constructor(options: RateBudgetOptions = {}) {
    this.reserve = Math.max(0, options.reserve ?? 0);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 60_000);
    this.defaultWindowSeconds = options.defaultWindowSeconds ?? 21_600;
    this.default429BlockMs = options.default429BlockMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /** A copy of what the budget knows of `key` (after forgetting the units that left the window). */
  state(key: string): BudgetState {
    const s = this.fresh(key);
    const starts = Object.keys(s.slots).map(Number);
    return {
      ...(s.limit !== undefined ? { limit: s.limit, remaining: s.limit - used(s) } : {}),
      ...(starts.length > 0 ? { resetAt: slotExpiry(Math.max(...starts), this.windowOf(s)) } : {}),
      ...(s.blockedUntil !== undefined ? { blockedUntil: s.blockedUntil } : {}),
    };
  }

  /**
   * Seeds a quota known from configuration (e.g. `rateLimit.pulls` per `windowHours`) for a key
   * the registry has not reported on yet; a later header replaces it.
   */
  seed(key: string, quota: { limit: number; windowSeconds?: number }): void {
    const s = this.fresh(key);
    if (s.limit !== undefined) return;
    s.limit = quota.limit;
    if (quota.windowSeconds !== undefined) s.windowSeconds = quota.windowSeconds;
  }

  /** Records what a response said: the remaining quota, or a 429's Retry-After. Returns the observation. */
  observe(key: string, source: HeaderSource | RateLimitObservation, status?: number): RateLimitObservation {
    const now = this.now();
    const o = isObservation(source) ? source : rateLimitFromHeaders(source, now);
    const s = this.fresh(key);
    if (o.limit !== undefined) s.limit = o.limit;
    if (o.windowSeconds !== undefined) s.windowSeconds = o.windowSeconds;
    if (o.remaining !== undefined) {
      // A count without a limit: what remains now is all there is to rely on.
      s.limit ??= o.remaining;
      // Responses arrive out of order (one started before our latest acquires reports more than is
      // left) and our own units count from their acquire: keep the higher count. What the registry
      // counts beyond ours is taken as spent now.
      const beyond = Math.max(0, s.limit - o.remaining) - used(s);
      if (beyond > 0) s.slots = rollingTake(s.slots, beyond, { limit: Infinity, windowSeconds: this.windowOf(s) }, now).slots;
    }
    if (status === 429 || o.retryAfterMs !== undefined) {
      this.block(key, o.retryAfterMs ?? (status === 429 ? this.default429BlockMs : 0));
    }
    return o;
  }

  /** Blocks `key` for `ms` (a 429 said so): every acquire waits until then. */
  block(key: string, ms: number): void {
    if (ms <= 0) return;
    const s = this.fresh(key);
    const until = this.now() + ms;
    s.blockedUntil = Math.max(s.blockedUntil ?? 0, until);
  }

  /**
   * Takes `cost` units from `key`'s budget, first waiting while it is blocked, or until enough units
   * have left the rolling window to stay above the reserve. A wait longer than `maxWaitMs` is not
   * waited out: it rejects with a RateLimitedError carrying `retryAfterSeconds`, so that the caller
   * re-queues the work. Resolves with the milliseconds waited.
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<number> {
    const cost = options.cost ?? 1;
    let waited = 0;
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const now = this.now();
      const s = this.fresh(key);
      let until: number | undefined;
      let why = '';
      if (s.blockedUntil !== undefined && s.blockedUntil > now) {
        until = s.blockedUntil;
        why = 'the registry answered 429 Too Many Requests';
      } else if (cost > 0 && s.limit !== undefined) {
        const take = rollingTake(s.slots, cost, { limit: s.limit - this.reserve, windowSeconds: this.windowOf(s) }, now);
        if (take.granted) s.slots = take.slots;
        else {
          until = take.resetAt;
          why = `${s.limit - take.used} of ${s.limit} left, reserve ${this.reserve}`;
        }
      }
      if (until === undefined) return waited;
      const wait = until - now;
      if (waited + wait > this.maxWaitMs) {
        const seconds = Math.max(1, Math.ceil(wait / 1000));
        throw new RateLimitedError(
          `${options.description ?? 'work'} deferred: the rate budget of ${key} is spent (${why}); ` +
            `it should recover in about ${seconds} s, longer than the ${Math.round(this.maxWaitMs / 1000)} s wait allowed. Re-queue it and retry later.`,
          { budgetKey: key, retryAfterSeconds: seconds, ...(options.registry !== undefined ? { registry: options.registry } : {}) },
        );
      }
      await this.sleep(wait);
      waited += wait;
    }
  }

  private windowOf(s: MutableState): number {
    return s.windowSeconds ?? this.defaultWindowSeconds;
  }

  /** The state of `key`, without the units that left the window and an expired block. */
  private fresh(key: string): MutableState {
    let s = this.states.get(key);
    if (s === undefined) {
      s = { slots: {} };
      this.states.set(key, s);
    }
    const now = this.now();
    s.slots = Object.fromEntries(liveSlots(s.slots, this.windowOf(s), now).map(([start, n]) => [String(start), n]));
    if (s.blockedUntil !== undefined && now >= s.blockedUntil) delete s.blockedUntil;
    return s;
  }
}

function used(s: MutableState): number {
  let n = 0;
  for (const v of Object.values(s.slots)) n += v;
  return n;
}

function isObservation(source: HeaderSource | RateLimitObservation): source is RateLimitObservation {
  if (typeof (source as Headers).get === 'function') return false;
  const keys = Object.keys(source);
  return keys.every((k) => k === 'limit' || k === 'remaining' || k === 'windowSeconds' || k === 'retryAfterMs') &&
    keys.every((k) => typeof (source as Record<string, unknown>)[k] === 'number');
}
