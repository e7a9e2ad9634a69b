// The local retention schedule: the next daily run (UTC), non-overlapping sweeps, and the push log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalPushLog, msUntilNext, startRetentionSchedule } from '../../../local/retention-schedule.ts';

describe('msUntilNext', () => {
  it('waits for today\'s time (UTC, as EventBridge Scheduler), or tomorrow\'s once it has passed', () => {
    const now = new Date(Date.UTC(2024, 5, 1, 2, 0, 0));
    expect(msUntilNext({ hour: 3, minute: 0 }, now)).toBe(3_600_000);
    expect(msUntilNext({ hour: 2, minute: 0 }, now)).toBe(24 * 3_600_000);
  });
});

describe('startRetentionSchedule', () => {
  it('runs on demand, shares a running sweep of the same mode, and serializes different modes', async () => {
    // Prepare
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const schedule = startRetentionSchedule({
      run: async (mode) => {
        runs.push(`start ${mode}`);
        if (runs.length === 1) await gate;
        runs.push(`end ${mode}`);
        return mode;
      },
      log: () => undefined,
    });

    // Act
    const a = schedule.trigger('dry-run', 'test');
    const b = schedule.trigger('dry-run', 'test');
    const c = schedule.trigger('apply', 'test');
    await Promise.resolve();
    release();

    // Assess
    expect(await a).toBe('dry-run');
    expect(await b).toBe('dry-run');
    expect(await c).toBe('apply');
    expect(runs).toEqual(['start dry-run', 'end dry-run', 'start apply', 'end apply']);
    expect(schedule.next()!.getTime()).toBeGreaterThan(Date.now());
    await schedule.stop();
  });
});

describe('LocalPushLog', () => {
  it('keeps the first push time of each digest, per registry and repository, across a reload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regman-pushlog-'));
    try {
      const file = join(dir, 'pushes.jsonl');
      const log = new LocalPushLog(file);
      log.record('src', 'app', 'sha256:a', '2024-06-01T00:00:00Z');
      log.record('src', 'app', 'sha256:a', '2024-06-02T00:00:00Z');
      log.record('src', 'other', 'sha256:b', '2024-06-03T00:00:00Z');
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
      const reloaded = new LocalPushLog(file);
      expect(await reloaded.list('src', 'app')).toEqual([{ digest: 'sha256:a', pushedAt: '2024-06-01T00:00:00.000Z' }]);
      expect(await reloaded.list('dst', 'app')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
