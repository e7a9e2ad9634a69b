// Invokes a handler the way Lambda invokes an EventBridge target: asynchronously, retried twice with backoff, then dead-lettered.
import { standInContext, type LambdaContextLike } from '../functions/handlers/context.ts';

/** What a dead-letter sink receives: the shape of functions/replication/dlq.ts `DeadLetterSink.send`. */
export interface DeadLetter {
  readonly event: unknown;
  readonly error: { readonly code: string; readonly message: string };
  readonly attempts: number;
  readonly correlationId: string;
}

export interface DeadLetterTarget {
  send(record: DeadLetter): Promise<void>;
}

/** The Lambda context the handlers read, plus the legacy callbacks middy still types. */
export interface LocalLambdaContext extends LambdaContextLike {
  done(): void;
  fail(): void;
  succeed(): void;
}

export type LocalHandler<E> = (event: E, context: LocalLambdaContext) => Promise<unknown>;

export interface AsyncInvokerOptions<E> {
  /** Function name (in the context and in log lines). */
  readonly name: string;
  readonly handler: LocalHandler<E>;
  /**
   * Delay before each retry. Lambda retries an async invocation twice (about 1 and 2 minutes apart);
   * the local stack shortens the waits. @default [1000, 2000]
   */
  readonly retryDelaysMs?: readonly number[];
  /** Invocation timeout reported by `getRemainingTimeInMillis`. @default 900 000 (Lambda's maximum) */
  readonly timeoutMs?: number;
  readonly deadLetters: DeadLetterTarget;
  /** Each attempt's outcome (the stack logs replications from here). */
  readonly onAttempt?: (report: AttemptReport<E>) => void;
}

export interface AttemptReport<E> {
  readonly event: E;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: unknown;
  /** True when this failure sent the event to the dead-letter sink. */
  readonly deadLettered: boolean;
  readonly durationMs: number;
}

export interface AsyncInvoker<E> {
  /** Queues an invocation and returns at once (Lambda's `InvocationType: Event`). */
  invoke(event: E): void;
  /** Queues an invocation that starts after `delayMs` (deferred work; on AWS an SQS delay or a Step Functions Wait). `idle()` waits for it too. */
  invokeLater(event: E, delayMs: number): void;
  /** Resolves when every queued invocation, retries included, has finished. */
  idle(): Promise<void>;
  /** Stops scheduling retries (pending retries are dropped) and waits for running attempts. */
  stop(): Promise<void>;
}

/**
 * @example
 * const invoker = createAsyncInvoker({ name: 'replicate', handler, deadLetters: new JsonlDeadLetterSink(file) });
 * invoker.invoke(event);
 * await invoker.idle();
 */
export function createAsyncInvoker<E extends { id?: string }>(options: AsyncInvokerOptions<E>): AsyncInvoker<E> {
  const delays = options.retryDelaysMs ?? [1_000, 2_000];
  const timeoutMs = options.timeoutMs ?? 900_000;
  const inFlight = new Set<Promise<void>>();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let stopped = false;

  const wait = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve(true);
        }, ms),
        resolve: () => resolve(false),
      };
      timers.add(entry);
    });

  const run = async (event: E): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      const started = Date.now();
      try {
        const result = await options.handler(event, lambdaContext(options.name, started, timeoutMs));
        options.onAttempt?.({ event, attempt, ok: true, result, deadLettered: false, durationMs: Date.now() - started });
        return;
      } catch (error) {
        const exhausted = attempt > delays.length;
        if (exhausted) {
          await options.deadLetters.send({
            event,
            error: describeError(error),
            attempts: attempt,
            correlationId: event.id ?? 'unknown',
          });
        }
        options.onAttempt?.({ event, attempt, ok: false, error, deadLettered: exhausted, durationMs: Date.now() - started });
        if (exhausted || stopped) return;
        if (!(await wait(delays[attempt - 1]!))) return;
      }
    }
  };

  return {
    invoke(event) {
      if (stopped) throw new Error(`${options.name}: the invoker is stopped`);
      const p = run(event).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    invokeLater(event, delayMs) {
      if (stopped) throw new Error(`${options.name}: the invoker is stopped`);
      // A stop drops the timer (wait resolves false), as it drops pending retries.
      const p: Promise<void> = wait(Math.max(0, delayMs))
        .then((due) => (due && !stopped ? run(event) : undefined))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async stop() {
      stopped = true;
      for (const t of timers) {
        clearTimeout(t.timer);
        t.resolve();
      }
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}

function describeError(error: unknown): { code: string; message: string } {
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'UNHANDLED';
  return { code, message: error instanceof Error ? error.message : String(error) };
}

function lambdaContext(name: string, started: number, timeoutMs: number): LocalLambdaContext {
  return { ...standInContext(name, started + timeoutMs), done: () => undefined, fail: () => undefined, succeed: () => undefined };
}
