import { describe, expect, it } from 'vitest';
import { formatDailyTime, planLocalSchedules } from '../../../local/schedules.ts';

describe('planLocalSchedules', () => {
  it('defaults to reconcile on demand and a nightly 03:00 UTC dry run, as the CDK stack', () => {
    expect(planLocalSchedules({ retentionMode: 'dry-run' }, {})).toEqual({
      reconcileEveryMinutes: 0, retention: { daily: { hour: 3, minute: 0 } }, retentionMode: 'dry-run', notes: [],
    });
  });

  it('follows the config: a rate becomes a period, a daily cron a time, and the mode is kept', () => {
    const plan = planLocalSchedules({ reconcile: 'rate(2 hours)', retention: 'cron(30 1 * * ? *)', retentionMode: 'apply' }, {});
    expect(plan).toEqual({ reconcileEveryMinutes: 120, retention: { daily: { hour: 1, minute: 30 } }, retentionMode: 'apply', notes: [] });
    expect(planLocalSchedules({ retention: 'rate(10 minutes)', retentionMode: 'dry-run' }, {}).retention).toEqual({ everyMinutes: 10 });
  });

  it('lets the flags win, including --reconcile-every 0 (on demand only)', () => {
    const plan = planLocalSchedules({ reconcile: 'rate(5 minutes)', retention: 'cron(0 3 * * ? *)', retentionMode: 'dry-run' }, { reconcileEveryMinutes: 0, retentionEveryMinutes: 7 });
    expect(plan.reconcileEveryMinutes).toBe(0);
    expect(plan.retention).toEqual({ everyMinutes: 7 });
  });

  it('says so when a cron cannot be run by a timer, and falls back', () => {
    const plan = planLocalSchedules({ reconcile: 'cron(0 * * * ? *)', retention: 'cron(0 3 ? * MON *)', retentionMode: 'dry-run' }, {});
    expect(plan.reconcileEveryMinutes).toBe(0);
    expect(plan.retention).toEqual({ daily: { hour: 3, minute: 0 } });
    expect(plan.notes).toEqual([
      expect.stringMatching(/^reconcile: schedules.reconcile cron\(0 \* \* \* \? \*\) runs on AWS; locally only rate\(\.\.\.\) is timed/),
      expect.stringMatching(/^retention: schedules.retention cron\(0 3 \? \* MON \*\) runs on AWS; .* nightly at 03:00 UTC$/),
    ]);
  });

  it('prints a daily time as HH:MM UTC', () => {
    expect(formatDailyTime({ hour: 3, minute: 5 })).toBe('03:05 UTC');
  });
});
