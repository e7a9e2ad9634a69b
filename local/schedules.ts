// What the local stack's timers do with the config's `schedules`: the same expressions as the CDK
// stack's EventBridge Scheduler, run with what timers can express.
import { parseScheduleExpression } from '../functions/config/schedule-expression.ts';
import type { RegmanConfig } from '../functions/config/index.ts';
import type { SweepMode } from '../functions/retention/sweep.ts';
import { DEFAULT_RETENTION_TIME, type DailyTime } from './retention-schedule.ts';

export interface LocalSchedulePlan {
  /** Minutes between reconciles; 0: only on demand. */
  readonly reconcileEveryMinutes: number;
  /** Retention: every N minutes, or daily at a UTC time. */
  readonly retention: { readonly everyMinutes: number } | { readonly daily: DailyTime };
  /** What a scheduled sweep does (the config's `schedules.retentionMode`). */
  readonly retentionMode: SweepMode;
  /** Why a config schedule was not followed exactly (printed at start). */
  readonly notes: readonly string[];
}

export interface LocalScheduleOverrides {
  /** `--reconcile-every`: wins over the config. */
  readonly reconcileEveryMinutes?: number;
  /** `--retention-every` (> 0): wins over the config. */
  readonly retentionEveryMinutes?: number;
}

/**
 * Flags win; then the config's `schedules`; then reconcile on demand only and retention nightly at
 * 03:00 UTC (the CDK default `cron(0 3 * * ? *)`). A `rate(...)` becomes a period; a cron that fires
 * daily at a fixed time becomes that time; any other cron cannot be run by a timer and falls back,
 * with a note.
 *
 * @example planLocalSchedules({ reconcile: 'rate(5 minutes)', retentionMode: 'dry-run' }, {})
 * // { reconcileEveryMinutes: 5, retention: { daily: { hour: 3, minute: 0 } }, retentionMode: 'dry-run', notes: [] }
 */
export function planLocalSchedules(schedules: RegmanConfig['schedules'], overrides: LocalScheduleOverrides): LocalSchedulePlan {
  const notes: string[] = [];
  let reconcileEveryMinutes = overrides.reconcileEveryMinutes ?? 0;
  if (overrides.reconcileEveryMinutes === undefined && schedules.reconcile !== undefined) {
    const parsed = parseScheduleExpression(schedules.reconcile);
    if ('kind' in parsed && parsed.kind === 'rate') reconcileEveryMinutes = parsed.minutes;
    else notes.push(`reconcile: schedules.reconcile ${schedules.reconcile} runs on AWS; locally only rate(...) is timed, so reconcile runs on demand (or pass --reconcile-every)`);
  }

  let retention: LocalSchedulePlan['retention'] = { daily: DEFAULT_RETENTION_TIME };
  if (overrides.retentionEveryMinutes !== undefined && overrides.retentionEveryMinutes > 0) {
    retention = { everyMinutes: overrides.retentionEveryMinutes };
  } else if (schedules.retention !== undefined) {
    const parsed = parseScheduleExpression(schedules.retention);
    if ('kind' in parsed && parsed.kind === 'rate') retention = { everyMinutes: parsed.minutes };
    else if ('kind' in parsed && parsed.daily) retention = { daily: parsed.daily };
    else notes.push(`retention: schedules.retention ${schedules.retention} runs on AWS; locally only rate(...) or a daily cron(M H * * ? *) is timed, so sweeps run nightly at 03:00 UTC`);
  }
  return { reconcileEveryMinutes, retention, retentionMode: schedules.retentionMode, notes };
}

/** `03:00 UTC` */
export function formatDailyTime(t: DailyTime): string {
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')} UTC`;
}
