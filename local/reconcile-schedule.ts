// Runs reconcile on a timer (every N minutes) and on demand, never two at once, as EventBridge Scheduler does in AWS.
export interface ReconcileScheduleOptions<R> {
  /** Minutes between runs; 0 or undefined: only on demand. */
  readonly everyMinutes?: number;
  readonly run: () => Promise<R>;
  readonly log: (line: string) => void;
}

export interface ReconcileSchedule<R> {
  /** Runs a reconcile now; while one runs, callers share it. */
  trigger(reason: string): Promise<R>;
  stop(): Promise<void>;
}

export function startReconcileSchedule<R>(options: ReconcileScheduleOptions<R>): ReconcileSchedule<R> {
  let running: Promise<R> | undefined;
  const trigger = (reason: string): Promise<R> => {
    running ??= (async () => {
      options.log(`reconcile: started (${reason})`);
      try {
        return await options.run();
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const minutes = options.everyMinutes ?? 0;
  const timer =
    minutes > 0
      ? setInterval(() => {
          trigger(`every ${minutes} min`).catch((err: unknown) => options.log(`reconcile: failed: ${err instanceof Error ? err.message : String(err)}`));
        }, minutes * 60_000)
      : undefined;
  timer?.unref();
  return {
    trigger,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
