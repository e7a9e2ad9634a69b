// The large-image Task steps over in-memory registries: CopyBlob idempotence, PublishManifests' all-or-nothing per target, Record's truth.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { copyPlannedBlob } from '../../../functions/replication/large/copy-blob.ts';
import { LargeImageErrorName, failureDetails } from '../../../functions/replication/large/errors.ts';
import { planLargeImage } from '../../../functions/replication/large/plan.ts';
import { publishManifests } from '../../../functions/replication/large/publish.ts';
import { recordLargeImage } from '../../../functions/replication/large/record.ts';
import type { LargeImageInput, LargeImageState } from '../../../functions/replication/large/types.ts';
import { pushCosignSignature, pushImage } from '../../helpers/memory-registry.ts';
import { memoryAdapter } from './support.ts';

async function setup() {
  const source = memoryAdapter('source');
  const a = memoryAdapter('target-a');
  const b = memoryAdapter('target-b');
  const adapters = new Map([source, a, b].map((x) => [x.name, x]));
  const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [3000, 5000] });
  const sig = await pushCosignSignature(source.oci, 'team/app', image);
  const input: LargeImageInput = {
    correlationId: 'corr',
    actor: 'event:aws.ecr',
    executionName: 'corr-x',
    sourceRegistry: 'source',
    repository: 'team/app',
    digest: image.digest,
    tag: 'v1',
    startedAt: new Date(Date.now() - 1000).toISOString(),
    targets: [
      { rule: 'mirror', registry: 'target-a', repository: 'team/app', referrers: true },
      { rule: 'mirror', registry: 'target-b', repository: 'mirror/team/app', referrers: true },
    ],
  };
  const plan = await planLargeImage(input, { adapters });
  return { source, a, b, adapters, image, sig, input, plan };
}

describe('large-image steps', () => {
  it('CopyBlob uploads to each target once and skips on a re-run (resume)', async () => {
    // Prepare
    const { a, b, adapters, input, plan } = await setup();
    const blob = plan.blobs[0]!;
    const item = { correlationId: 'corr', sourceRegistry: 'source', repository: 'team/app', targets: input.targets, blob };
    // Act
    const first = await copyPlannedBlob(item, { adapters });
    const again = await copyPlannedBlob(item, { adapters });
    // Assess
    expect(first).toEqual({ digest: blob.digest, outcomes: ['uploaded', 'uploaded'] });
    expect(again).toEqual({ digest: blob.digest, outcomes: ['skipped', 'skipped'] });
    expect(a.registry.hasBlob('team/app', blob.digest)).toBe(true);
    expect(b.registry.hasBlob('mirror/team/app', blob.digest)).toBe(true);
    expect(a.registry.count('blobPut')).toBe(1);
  });

  it('CopyBlob records each target in the blob progress, and a redrive skips a recorded target without a HEAD', async () => {
    // Prepare: blob progress in memory; the item carries the image digest (the Map's ItemSelector)
    const { a, b, adapters, input, plan, image } = await setup();
    const blob = plan.blobs[0]!;
    const records = new Map<string, Set<string>>();
    const keyOf = (k: { target: string; repository: string; digest: string }): string => `${k.target}#${k.repository}#${k.digest}`;
    const blobProgress = {
      verifiedBlobs: async (k: { target: string; repository: string; digest: string }, only?: readonly string[]) =>
        new Set([...(records.get(keyOf(k)) ?? [])].filter((d) => only === undefined || only.includes(d))),
      recordVerified: async (k: { target: string; repository: string; digest: string }, digests: readonly string[]) => {
        records.set(keyOf(k), new Set([...(records.get(keyOf(k)) ?? []), ...digests]));
      },
      forget: async () => undefined,
    };
    const item = { correlationId: 'corr', sourceRegistry: 'source', repository: 'team/app', digest: image.digest, targets: input.targets, blob };
    // Act
    await copyPlannedBlob(item, { adapters, blobProgress });
    a.registry.resetCalls();
    b.registry.resetCalls();
    const again = await copyPlannedBlob(item, { adapters, blobProgress });
    // Assess
    expect([...records.keys()].sort()).toEqual([`target-a#team/app#${image.digest}`, `target-b#mirror/team/app#${image.digest}`]);
    expect(again.outcomes).toEqual(['skipped', 'skipped']);
    expect(a.registry.count('blobHead') + b.registry.count('blobHead')).toBe(0);
  });

  it('PublishManifests pushes nothing to a target missing a blob, tags the complete one last, and fails fatally', async () => {
    // Prepare: every blob at target-a, all but one at target-b
    const { a, b, adapters, input, plan, image, sig } = await setup();
    const missing = plan.blobs[1]!;
    const copied = [];
    for (const blob of plan.blobs) {
      const targets = blob.digest === missing.digest ? [0] : blob.targets;
      copied.push(await copyPlannedBlob({ correlationId: 'corr', sourceRegistry: 'source', repository: 'team/app', targets: input.targets, blob: { ...blob, targets } }, { adapters }));
    }
    const state: LargeImageState = { ...input, plan, copied };
    // Act
    const err = await publishManifests(state, { adapters }).then(() => new Error('no error'), (e: unknown) => e as Error);
    // Assess
    expect(err).toMatchObject({ name: LargeImageErrorName.fatal, code: 'BLOBS_MISSING' });
    expect(err.message).toContain(missing.digest);
    expect(b.registry.count('manifestPut')).toBe(0);
    expect(a.registry.tagDigest('team/app', 'v1')).toBe(image.digest);
    const puts = a.registry.log.filter((l) => l.method === 'manifestPut').map((l) => l.reference);
    expect(puts).toEqual([image.digest, sig.digest, `${image.digest.replace(':', '-')}.sig`, 'v1']);

    // Act: Record (the Catch path) asks the targets, so target-a is a success and target-b a failure
    const audit = new AuditLog(new InMemoryAuditStore());
    const summary = await recordLargeImage({ ...state, error: { Error: err.name, Cause: JSON.stringify({ errorType: err.name, errorMessage: err.message }) } }, { adapters, audit });
    // Assess
    expect(summary.status).toBe('partial');
    const records = await audit.query({ action: 'replicate', order: 'oldest-first' });
    expect(records.map((r) => [r.target, r.outcome, r.errorCode ?? null])).toEqual([
      ['target-a', 'success', null],
      ['target-b', 'failure', 'BLOBS_MISSING'],
    ]);
    expect(records[0]).toMatchObject({ bytes: plan.totalBytes, blobs: { uploaded: plan.blobs.length, mounted: 0, skipped: 0 }, details: { fanout: true, executionName: 'corr-x' } });
    expect(records[0]!.durationMs).toBeGreaterThanOrEqual(1000);
    expect(records[1]!.errorMessage).not.toMatch(/^\[/);
  });

  it('PublishManifests leaves the tag alone when the source tag moved on; Record audits it skipped: superseded', async () => {
    // Prepare: every blob copied, then the source tag moves to a newer image
    const { source, a, adapters, input, plan, image } = await setup();
    const copied = [];
    for (const blob of plan.blobs) copied.push(await copyPlannedBlob({ correlationId: 'corr', sourceRegistry: 'source', repository: 'team/app', targets: input.targets, blob }, { adapters }));
    const newer = await pushImage(source.oci, 'team/app', 'v1', { layers: [10] });
    // Act
    const published = await publishManifests({ ...input, plan, copied }, { adapters });
    const audit = new AuditLog(new InMemoryAuditStore());
    const summary = await recordLargeImage({ ...input, plan, copied, published }, { adapters, audit });
    // Assess
    expect(published.map((p) => [p.tagged, p.superseded?.currentDigest])).toEqual([[false, newer.digest], [false, newer.digest]]);
    expect(a.registry.tagDigest('team/app', 'v1')).toBeUndefined();
    expect((await a.oci.manifestHead('team/app', image.digest))?.digest).toBe(image.digest);
    expect(summary.targets.map((t) => t.status)).toEqual(['skipped', 'skipped']);
    const records = await audit.query({ action: 'replicate' });
    expect(records.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    expect(records[0]?.details).toMatchObject({ superseded: { eventDigest: image.digest, currentDigest: newer.digest } });
  });

  it('reads the error code back from a Lambda error Cause (AWS) or a plain message (local)', () => {
    expect(failureDetails({ Error: 'RegmanFatalError', Cause: JSON.stringify({ errorType: 'RegmanFatalError', errorMessage: '[BLOBS_MISSING] gone', trace: [] }) })).toEqual({ code: 'BLOBS_MISSING', message: 'gone' });
    expect(failureDetails({ Error: 'RegmanRetryableError', Cause: '[UNAVAILABLE] 503' })).toEqual({ code: 'UNAVAILABLE', message: '503' });
    expect(failureDetails({ Error: 'States.Timeout', Cause: 'Task timed out' })).toEqual({ code: 'States.Timeout', message: 'Task timed out' });
  });
});
