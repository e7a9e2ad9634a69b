// Retries ECR calls that were throttled, around single calls and around the SDK's paginators (resuming at the last good page).
//
// The SDK's standard retry strategy already retries throttling (maxAttempts, set in ecr.ts), but it
// gives up when its retry quota (a client-wide token bucket) runs dry, which a sweep over hundreds
// of repositories does: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html.
// ECR's API limits are per account and region, low for some calls (e.g. BatchGetImage, PutImage):
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html. So throttling that
// comes out of the SDK is retried once more here, with full-jitter backoff.
import { backoffDelay, sleep as realSleep } from '../../oci/retry.ts';
import { isThrottlingError } from './errors.ts';

export interface ThrottleRetryOptions {
  /** Attempts in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default 500 */
  readonly baseDelayMs?: number;
  /** @default 20000 */
  readonly maxDelayMs?: number;
  /** Injected in tests to observe waits without waiting. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected in tests for deterministic jitter. */
  readonly random?: () => number;
  readonly signal?: AbortSignal;
}

const DEFAULTS = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 20_000 };

function policyOf(options: ThrottleRetryOptions): Required<Pick<ThrottleRetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>> {
  return {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULTS.maxAttempts),
    baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs,
  };
}

/** Waits before retry number `retry`, or rethrows `err` when it is not throttling or attempts ran out. */
async function backoffOrThrow(err: unknown, retry: number, options: ThrottleRetryOptions): Promise<void> {
  const policy = policyOf(options);
  if (!isThrottlingError(err) || retry >= policy.maxAttempts || options.signal?.aborted) throw err;
  await (options.sleep ?? realSleep)(backoffDelay(retry, policy, options.random));
}

/**
 * Runs `call`, retrying throttling errors with backoff; any other error is thrown at once.
 *
 * @example
 * const out = await withThrottleRetry(() => client.send(new PutImageCommand(input)), { sleep });
 */
export async function withThrottleRetry<T>(call: () => Promise<T>, options: ThrottleRetryOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      await backoffOrThrow(err, attempt, options);
    }
  }
}

/**
 * Iterates an SDK paginator, restarting it from the last page's token when a page is throttled, so
 * that pages already read are not read again.
 *
 * @example
 * for await (const page of retryingPages((startingToken) => paginateListImages({ client, startingToken }, input), (p) => p.nextToken)) …
 */
export async function* retryingPages<P>(
  paginate: (startingToken: string | undefined) => AsyncIterable<P>,
  nextTokenOf: (page: P) => string | undefined,
  options: ThrottleRetryOptions = {},
): AsyncGenerator<P> {
  let token: string | undefined;
  let failures = 0;
  for (;;) {
    try {
      for await (const page of paginate(token)) {
        failures = 0;
        token = nextTokenOf(page);
        yield page;
      }
      return;
    } catch (err) {
      failures++;
      await backoffOrThrow(err, failures, options);
    }
  }
}
