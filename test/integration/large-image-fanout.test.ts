// Large images fanned out over the REAL replicate-large ASL, run locally (aws-local-stepfunctions) with the real Task handlers over real registries.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { lambdaContext } from '../../functions/handlers/context.ts';
import { createLargeImageCopyBlobHandler } from '../../functions/handlers/large-image-copy-blob.ts';
import { createLargeImagePlanHandler } from '../../functions/handlers/large-image-plan.ts';
import { createLargeImagePublishHandler } from '../../functions/handlers/large-image-publish.ts';
import { createLargeImageRecordHandler } from '../../functions/handlers/large-image-record.ts';
import { createReplicateHandler } from '../../functions/handlers/replicate.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import type { LargeImageInput } from '../../functions/replication/large/types.ts';
import type { ReplicationDeps, ReplicationOutcome } from '../../functions/replication/replicate.ts';
import { createLocalFanoutStarter, type LocalTaskHandler } from '../../local/step-functions.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushCosignSignature, pushImage, pushOciIndex } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const KiB = 1024;

let source: RunningRegistry;
let targetA: RunningRegistry;
let targetB: RunningRegistry;
let proxyA: FaultProxy;
let deps: ReplicationDeps;
let audit: AuditLog;
let started: LargeImageInput[];
let fanout: ReturnType<typeof createLocalFanoutStarter>;
let replicate: ReturnType<typeof createReplicateHandler>;

const quiet = () => ({ logger: new Logger({ serviceName: 'large-it', logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) });

beforeAll(async () => {
  [source, targetA, targetB] = await Promise.all([startRegistry(), startRegistry(), startRegistry()]);
  // target-a is reached through a proxy that logs every request in order (and can fail them).
  proxyA = await startFaultProxy(targetA.url);
  const { config, errors } = validateConfig(
    JSON.stringify({
      version: 1,
      registries: {
        source: { kind: 'oci', url: source.url, public: true },
        'target-a': { kind: 'oci', url: proxyA.url, public: true },
        'target-b': { kind: 'oci', url: targetB.url, public: true },
      },
      replication: [
        { name: 'mirror', source: 'source', repositories: ['big/**'], tags: { include: ['v*'] }, targets: [{ registry: 'target-a' }, { registry: 'target-b', repositoryPrefix: 'mirror' }], referrers: true },
      ],
    }),
    'large-it.json',
  );
  expect(errors).toEqual([]);
  if (!config) throw new Error('config did not validate');
  audit = new AuditLog(new InMemoryAuditStore());
  deps = { config, adapters: createAdapters(config, {}), audit, copyOptions: { retries: 0, retryDelayMs: 1 } };
  const taskHandlers: Record<string, LocalTaskHandler> = {
    LargeImagePlanFunctionArn: createLargeImagePlanHandler(() => deps, quiet()),
    LargeImageCopyBlobFunctionArn: createLargeImageCopyBlobHandler(() => deps, quiet()),
    LargeImagePublishFunctionArn: createLargeImagePublishHandler(() => deps, quiet()),
    LargeImageRecordFunctionArn: createLargeImageRecordHandler(() => deps, quiet()),
  };
  fanout = createLocalFanoutStarter({ taskHandlers, retryIntervalMs: 0 });
  started = [];
  const recordingStarter = { start: (input: LargeImageInput) => (started.push(input), fanout.start(input)) };
  // A low threshold forces every image here (a few hundred KiB to a few MiB) to fan out.
  const fanoutDeps: ReplicationDeps = { ...deps, fanout: { starter: recordingStarter, policy: { maxBytes: 64 * KiB, throughputBytesPerSecond: 50 * 1024 * KiB, safetyFactor: 0.5 } } };
  replicate = createReplicateHandler(() => fanoutDeps, {
    sourceRegistry: () => 'source',
    logger: new Logger({ serviceName: 'large-it', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'large-it' }),
    tracer: new Tracer({ enabled: false }),
  });
});

afterAll(async () => {
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([proxyA?.stop(), source?.stop(), targetA?.stop(), targetB?.stop()]);
});

// EMF metric documents go to stdout; keep the test output readable.
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  proxyA.reset();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function pushEvent(id: string, repository: string, digest: string, tag: string): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { result: 'SUCCESS', 'repository-name': repository, 'image-digest': digest, 'action-type': 'PUSH', 'image-tag': tag },
  };
}

/** Successful upload commits at target-a per blob digest (`PUT …/blobs/uploads/…?digest=`). */
function commitsByDigest(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of proxyA.requests) {
    if (r.method !== 'PUT' || !/\/blobs\/uploads\//.test(r.path) || r.status !== 201) continue;
    const digest = decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.path)?.[1] ?? '');
    counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return counts;
}

const tagHead = (registryName: string, repository: string, tag: string) => deps.adapters.get(registryName)!.oci.manifestHead(repository, tag);

describe('large image fan-out over the replicate-large state machine', () => {
  it('replicates a signed multi-arch index blob by blob, identical digests, the tag last, one replicate record per target', async () => {
    // Prepare
    const index = await pushOciIndex(source, 'big/multi', 'v1', ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], { sharedLayerSize: 128 * KiB, layers: [64 * KiB] });
    const sig = await pushCosignSignature(source, 'big/multi', index.digest);
    const event = pushEvent('e7d1a000-0000-4000-8000-000000000001', 'big/multi', index.digest, 'v1');
    // Act
    const outcome = (await replicate(event, lambdaContext())) as ReplicationOutcome;
    const execution = await fanout.wait(outcome.execution!.executionName);
    // Assess: deferred by the handler, finished by the state machine
    expect(outcome.status).toBe('deferred');
    expect(outcome.targets.map((t) => t.status)).toEqual(['deferred', 'deferred']);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states.filter((s) => s === 'CopyBlob')).toHaveLength(index.blobs.length + sig.blobs.length);
    expect(execution.states.at(-1)).toBe('Done');
    expect(await skopeoDigest(`${targetA.host}/big/multi:v1`)).toBe(index.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/big/multi:v1`)).toBe(index.digest);
    const sigTag = `${index.digest.replace(':', '-')}.sig`;
    expect(await skopeoDigest(`${targetA.host}/big/multi:${sigTag}`)).toBe(sig.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/big/multi:${sigTag}`)).toBe(sig.digest);
    for (const child of index.children) expect(await skopeoDigest(`${targetA.host}/big/multi@${child.digest}`)).toBe(child.digest);
    // every blob copied once (the shared layer too), and the tag PUT after every blob and every other manifest
    const commits = commitsByDigest();
    expect([...commits.keys()].sort()).toEqual([...index.blobs, ...sig.blobs].map((b) => b.digest).sort());
    expect([...commits.values()].every((n) => n === 1)).toBe(true);
    const puts = proxyA.requests.map((r, i) => ({ ...r, i })).filter((r) => r.method === 'PUT');
    const tagPut = puts.filter((r) => /\/manifests\/v1$/.test(r.path));
    expect(tagPut).toHaveLength(1);
    expect(puts.at(-1)!.i).toBe(tagPut[0]!.i);
    // audit: one replicate.fanout and one replicate record per target
    const records = (await audit.query({ repository: 'big/multi', order: 'oldest-first' })).filter((r) => r.correlationId === event.id);
    expect(records.filter((r) => r.action === 'replicate.fanout').map((r) => r.target).sort()).toEqual(['target-a', 'target-b']);
    const done = records.filter((r) => r.action === 'replicate');
    expect(done.map((r) => r.target).sort()).toEqual(['target-a', 'target-b']);
    for (const r of done) {
      expect(r).toMatchObject({ outcome: 'success', digest: index.digest, tags: ['v1'], actor: 'event:aws.ecr', details: { fanout: true, executionName: outcome.execution!.executionName } });
      expect(r.blobs?.uploaded).toBe(index.blobs.length + sig.blobs.length);
      expect(r.bytes).toBe([...index.blobs, ...sig.blobs].reduce((s, b) => s + b.size, 0));
    }
  });

  it('a blob that keeps failing ends in the failure branch, audited, with NO tag at the target; a re-run after the fault is gone resumes and completes', async () => {
    // Prepare: a single image with several layers; one layer's upload commit to target-a always answers 500
    const image = await pushImage(source, 'big/single', 'v2', { layers: [512 * KiB, 512 * KiB, 768 * KiB, 256 * KiB, 640 * KiB, 384 * KiB] });
    const victim = image.layers[2]!;
    const hex = victim.digest.slice('sha256:'.length);
    const fault = proxyA.inject({ method: 'PUT', path: new RegExp(`/blobs/uploads/.*${hex}`), times: Infinity, fault: { kind: 'status', status: 500 } });
    const event = pushEvent('e7d1a000-0000-4000-8000-000000000002', 'big/single', image.digest, 'v2');
    // Act
    const outcome = (await replicate(event, lambdaContext())) as ReplicationOutcome;
    const failed = await fanout.wait(outcome.execution!.executionName);
    // Assess: retried (5 retries after the first attempt), then the failure branch
    expect(outcome.status).toBe('deferred');
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('RegmanReplicationFailed');
    expect(failed.states).toContain('RecordFailure');
    expect(failed.states).not.toContain('PublishManifests');
    expect(fault.fired).toBe(6);
    expect(await tagHead('target-a', 'big/single', 'v2')).toBeUndefined();
    expect(await tagHead('target-b', 'mirror/big/single', 'v2')).toBeUndefined();
    expect(proxyA.count(Routes.manifestPut)).toBe(0);
    const failures = (await audit.query({ repository: 'big/single', action: 'replicate', order: 'oldest-first' })).filter((r) => r.correlationId === event.id);
    expect(failures.map((r) => [r.target, r.outcome]).sort()).toEqual([['target-a', 'failure'], ['target-b', 'failure']]);
    const a = failures.find((r) => r.target === 'target-a')!;
    expect(a.errorMessage).toContain(victim.digest);
    expect(a.errorCode).toMatch(/^[A-Z_]+$/);

    // Act: the fault is gone; the same execution input runs again (a redrive)
    fault.remove();
    const firstRun = commitsByDigest();
    proxyA.clearRequests();
    const rerun = await fanout.rerun(started.find((s) => s.correlationId === event.id)!);
    // Assess: it completes; only what was missing moved
    expect(rerun.status).toBe('SUCCEEDED');
    expect(await skopeoDigest(`${targetA.host}/big/single:v2`)).toBe(image.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/big/single:v2`)).toBe(image.digest);
    const secondRun = commitsByDigest();
    expect(secondRun.get(victim.digest)).toBe(1);
    for (const b of image.blobs) expect((firstRun.get(b.digest) ?? 0) + (secondRun.get(b.digest) ?? 0)).toBe(1);
    const records = (await audit.query({ repository: 'big/single', action: 'replicate', order: 'oldest-first' })).filter((r) => r.correlationId === event.id);
    expect(records.slice(2).map((r) => [r.target, r.outcome]).sort()).toEqual([['target-a', 'success'], ['target-b', 'success']]);
  });
});
