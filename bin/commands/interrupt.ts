// Ctrl-C during a long command: abort the work, then exit 130 (128 + SIGINT), as shells expect.

import { EXIT_INTERRUPTED } from './run-cli.ts';

/** The error a Ctrl-C'd command ends with; run-cli exits with its `exitCode`. */
export class InterruptedError extends Error {
  readonly exitCode = EXIT_INTERRUPTED;
  readonly code = 'INTERRUPTED';
  constructor(cause?: unknown) {
    super('interrupted (SIGINT)', cause === undefined ? undefined : { cause });
    this.name = 'InterruptedError';
  }
}

/**
 * Aborts `controller` on the first SIGINT. `release()` removes the handler; `wrap(err)` turns whatever
 * the aborted work threw (an engine error wrapping the abort) into an InterruptedError; `race(work)`
 * rejects with it as soon as SIGINT arrives, even if the work has not noticed yet.
 */
export function abortOnSigint(controller: AbortController): { release(): void; wrap(err: unknown): unknown; race<T>(work: Promise<T>): Promise<T> } {
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    controller.abort(new InterruptedError());
  };
  process.once('SIGINT', onSigint);
  return {
    release: () => process.removeListener('SIGINT', onSigint),
    wrap: (err) => (interrupted && !(err instanceof InterruptedError) ? new InterruptedError(err) : err),
    // Not every request takes the signal (a manifest GET waiting on a silent registry): stop waiting at once.
    race: <T>(work: Promise<T>): Promise<T> =>
      Promise.race([
        work,
        new Promise<never>((_resolve, reject) => {
          if (controller.signal.aborted) reject(new InterruptedError());
          controller.signal.addEventListener('abort', () => reject(new InterruptedError()), { once: true });
        }),
      ]),
  };
}
