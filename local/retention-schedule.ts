// The local stack's retention sweep: on the config's schedule (default nightly at 03:00), every N minutes, and on demand; plus the push log it reads.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { SweepMode } from '../functions/retention/sweep.ts';
import type { PushTimeSource } from '../functions/retention/sweep-inventory.ts';

/** When the schedule runs: the hour and minute of a daily run, in UTC (as EventBridge Scheduler's cron). */
export interface DailyTime {
  readonly hour: number;
  readonly minute: number;
}

/** The default nightly sweep, as the CDK schedule defaults to (`cron(0 3 * * ? *)`). */
export const DEFAULT_RETENTION_TIME: DailyTime = { hour: 3, minute: 0 };

/** Milliseconds from `now` to the next `time` (UTC), never 0. */
export function msUntilNext(time: DailyTime, now: Date = new Date()): number {
  const next = new Date(now);
  next.setUTCHours(time.hour, time.minute, 0, 0);
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}

export interface RetentionScheduleOptions<R> {
  /** Minutes between sweeps; set (> 0) it replaces the daily time. */
  readonly everyMinutes?: number;
  /** The daily time. @default 03:00 */
  readonly daily?: DailyTime;
  /** Scheduled sweeps are dry runs unless this says apply (a nightly apply is an explicit choice). @default 'dry-run' */
  readonly scheduledMode?: SweepMode;
  readonly run: (mode: SweepMode) => Promise<R>;
  readonly log: (line: string) => void;
}

export interface RetentionSchedule<R> {
  /** Sweeps now; while one runs, a caller asking for the same mode shares it, another mode waits for it. */
  trigger(mode: SweepMode, reason: string): Promise<R>;
  /** When the next scheduled sweep starts. */
  readonly next: () => Date | undefined;
  stop(): Promise<void>;
}

/** Starts the schedule; sweeps never overlap (as one Step Functions execution at a time would). */
export function startRetentionSchedule<R>(options: RetentionScheduleOptions<R>): RetentionSchedule<R> {
  let running: { mode: SweepMode; promise: Promise<R> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let nextAt: Date | undefined;
  let stopped = false;

  const trigger = async (mode: SweepMode, reason: string): Promise<R> => {
    while (running && running.mode !== mode) await running.promise.catch(() => undefined);
    if (running) return running.promise;
    const promise = (async () => {
      options.log(`retention: ${mode} sweep started (${reason})`);
      try {
        return await options.run(mode);
      } finally {
        running = undefined;
      }
    })();
    running = { mode, promise };
    return promise;
  };

  const mode = options.scheduledMode ?? 'dry-run';
  const every = options.everyMinutes ?? 0;
  const arm = (): void => {
    if (stopped) return;
    const delay = every > 0 ? every * 60_000 : msUntilNext(options.daily ?? DEFAULT_RETENTION_TIME);
    nextAt = new Date(Date.now() + delay);
    timer = setTimeout(() => {
      trigger(mode, every > 0 ? `every ${every} min` : 'nightly schedule')
        .catch((err: unknown) => options.log(`retention: sweep failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(arm);
    }, delay);
    timer.unref();
  };
  arm();
  return {
    trigger,
    next: () => nextAt,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.promise.catch(() => undefined);
    },
  };
}

/** One recorded push. */
interface PushRecord {
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly pushedAt: string;
}

/**
 * Push times from the registries' notifications, kept in D/pushes.jsonl: distribution records no
 * push time, and `tags/list` cannot see manifests pushed by digest only. The first push of a digest
 * wins, as ECR's `imagePushedAt` does.
 */
export class LocalPushLog implements PushTimeSource {
  private readonly byKey = new Map<string, Map<string, string>>();

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        this.remember(JSON.parse(line) as PushRecord);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
  }

  private remember(r: PushRecord): boolean {
    const key = `${r.registry}\n${r.repository}`;
    const digests = this.byKey.get(key) ?? new Map<string, string>();
    this.byKey.set(key, digests);
    const known = digests.get(r.digest);
    if (known !== undefined && known <= r.pushedAt) return false;
    digests.set(r.digest, r.pushedAt);
    return true;
  }

  /** Records a push (idempotent: a later push of the same digest changes nothing). */
  record(registry: string, repository: string, digest: string, pushedAt: string): void {
    const r = { registry, repository, digest, pushedAt: new Date(pushedAt).toISOString() };
    if (this.remember(r)) appendFileSync(this.file, `${JSON.stringify(r)}\n`);
  }

  async list(registry: string, repository: string): Promise<{ digest: string; pushedAt: string }[]> {
    return [...(this.byKey.get(`${registry}\n${repository}`) ?? [])].map(([digest, pushedAt]) => ({ digest, pushedAt }));
  }
}
