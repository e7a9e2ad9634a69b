import { describe, expect, it } from 'vitest';
import type { TargetOutcome } from '../../../functions/replication/replicate.ts';
import { formatFanoutFinished, formatReplicationEvent } from '../../../local/replication-log.ts';

const base = { rule: 'mirror', target: 'east', repository: 'team/app', bytes: 0, blobs: { uploaded: 0, mounted: 0, skipped: 0 }, durationMs: 0 };
const finished = (outcome: Partial<TargetOutcome>) =>
  formatReplicationEvent({ type: 'target-finished', correlationId: 'abcdef0123', outcome: { ...base, status: 'replicated', ...outcome } as TargetOutcome });

describe('local replication log lines', () => {
  it('tells a copy, a failure, a skip and a fan-out apart', () => {
    expect(finished({ digest: `sha256:${'a'.repeat(64)}`, bytes: 3 * 1024 * 1024, blobs: { uploaded: 2, mounted: 1, skipped: 0 }, durationMs: 42 })).toBe(
      `[abcdef01] replicate → east/team/app@${'a'.repeat(12)}: ok (3.0 MiB, blobs 2 uploaded / 1 mounted / 0 skipped) in 42 ms`,
    );
    expect(finished({ status: 'failed', errorCode: 'UNAUTHORIZED', error: 'bad password' })).toBe('[abcdef01] replicate → east/team/app@?: FAILED UNAUTHORIZED bad password');
    expect(finished({ status: 'skipped', reason: 'subject not there' })).toBe('[abcdef01] replicate → east/team/app@?: skipped (subject not there)');
    expect(finished({ status: 'deferred', reason: 'fanned out to execution x-1 (3 GiB > 2 GiB)' })).toBe(
      '[abcdef01] replicate → east/team/app: large image, fanned out to execution x-1 (3 GiB > 2 GiB); blob by blob, the tag last',
    );
  });

  it('reports a finished large-image execution per target, and a failed one with its error', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const ok = formatFanoutFinished('exec-1', {
      status: 'SUCCEEDED',
      states: [],
      waits: [],
      output: {
        status: 'partial', executionName: 'exec-1', digest, tag: 'v1',
        targets: [
          { target: 'east', repository: 'team/app', status: 'replicated', bytes: 2048, blobs: { uploaded: 3, mounted: 0, skipped: 1 } },
          { target: 'west', repository: 'mirror/team/app', status: 'failed', bytes: 0, blobs: { uploaded: 0, mounted: 0, skipped: 0 }, errorCode: 'BLOB_UNKNOWN', error: 'gone' },
        ],
      },
    });
    expect(ok.split('\n')).toEqual([
      `large image execution exec-1: partial (v1@${'b'.repeat(12)})`,
      '  → east/team/app: ok (2.0 KiB, blobs 3 uploaded / 0 mounted / 1 skipped)',
      '  → west/mirror/team/app: FAILED BLOB_UNKNOWN gone',
    ]);
    expect(formatFanoutFinished('exec-2', { status: 'FAILED', states: [], waits: [], error: 'States.TaskFailed', cause: 'plan failed' })).toBe('large image execution exec-2: FAILED States.TaskFailed plan failed');
  });
});
