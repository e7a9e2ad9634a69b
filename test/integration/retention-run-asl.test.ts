// The retention-sweep state machine run locally (same ASL as AWS) over real registries: List → Map of sweeps → Summarize.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { loadConfig } from '../../functions/config/index.ts';
import { createRetentionListHandler } from '../../functions/handlers/retention-list.ts';
import { createRetentionSweepHandler, type RetentionDeps } from '../../functions/handlers/retention-sweep.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import type { SweepSummary } from '../../functions/retention/sweep.ts';
import { runStateMachine } from '../../local/step-functions.ts';
import { pushCosignSignature, pushImage, pushOciIndex, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const ASL = fileURLToPath(new URL('../../statemachines/retention-sweep.asl.json', import.meta.url));
const OLD = { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' };

describe('retention-sweep.asl.json (local Step Functions, real registries)', () => {
  let a: RunningRegistry;
  let b: RunningRegistry;
  let dir: string;
  let deps: RetentionDeps;
  let store: InMemoryAuditStore;
  const expired: PushedImage[] = [];
  const kept: PushedImage[] = [];

  async function exists(reg: RunningRegistry, repo: string, digest: string): Promise<boolean> {
    const res = await new RawRegistryClient(reg).request('HEAD', `/v2/${repo}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
    });
    return res.status === 200;
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([startRegistry(), startRegistry()]);
    for (const repo of ['team/one', 'team/two']) {
      const old = await pushImage(a, repo, 'nightly-1', { layers: [32], annotations: OLD });
      expired.push(old, await pushCosignSignature(a, repo, old.digest));
      kept.push(await pushImage(a, repo, 'v1', { layers: [32], annotations: OLD }));
      kept.push(await pushImage(a, repo, 'v2', { layers: [32], annotations: OLD }));
      await pushOciIndex(a, repo, 'v3', ['linux/amd64', 'linux/arm64'], { layers: [16], sharedLayerSize: 16 });
    }
    await pushImage(b, 'team/three', 'nightly-1', { layers: [32], annotations: OLD });
    dir = mkdtempSync(join(tmpdir(), 'regman-retention-asl-'));
    const file = join(dir, 'registries.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'registries:',
        `  a: { kind: oci, url: '${a.url}', public: true }`,
        `  b: { kind: oci, url: '${b.url}', public: true }`,
        `  untouched: { kind: oci, url: '${b.url}', public: true }`,
        'retention:',
        '  - name: nightly',
        '    registries: [a, b]',
        '    rules:',
        '      delete: { olderThanDays: 30 }',
        "      keep: { tags: ['v*'] }",
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file, { env: {} });
    store = new InMemoryAuditStore();
    deps = {
      config,
      adapters: createAdapters(config, { ociOptions: { retry: { maxAttempts: 1 } } }),
      audit: new AuditLog(store),
      now: () => new Date('2024-06-01T00:00:00Z'),
    };
  }, 120_000);

  afterAll(async () => {
    if (deps) closeAdapters(deps.adapters.values());
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sweeps every governed repository in the Map; a registry failing mid-run fails only its own items', async () => {
    // Prepare: registry b goes down after the List step.
    const quiet = { logger: new Logger({ logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) };
    const list = createRetentionListHandler(() => deps, quiet);
    const points: { name: string; value: number; dimensions: Readonly<Record<string, string>> }[] = [];
    const sweep = createRetentionSweepHandler(() => deps, { ...quiet, metrics: { record: (name, _unit, value, dimensions) => points.push({ name, value, dimensions }) } });
    const sweptInputs: unknown[] = [];

    // Act
    const result = await runStateMachine(
      ASL,
      { mode: 'apply' },
      {
        RetentionListFunctionArn: async (input) => {
          const out = await list(input);
          await b.stop();
          return out;
        },
        RetentionSweepFunctionArn: async (input) => {
          sweptInputs.push(input);
          return sweep(input);
        },
      },
      { retryIntervalMs: 1 },
    );

    // Assess
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'SUCCEEDED' });
    const output = result.output as { mode: string; repositories: number; results: (SweepSummary | { status: 'failed'; repository: string; error: string })[] };
    expect(output.mode).toBe('apply');
    expect(output.repositories).toBe(3);
    const byRepo = Object.fromEntries(output.results.map((r) => [r.repository, r]));
    expect(byRepo['team/one']).toMatchObject({ registry: 'a', policy: 'nightly', status: 'applied', counts: { deleted: 2, failed: 0 } });
    expect(byRepo['team/two']).toMatchObject({ status: 'applied', counts: { deleted: 2 } });
    expect(byRepo['team/three']).toMatchObject({ status: 'failed', error: 'RegmanRetryableError' });
    // Retried before it was caught (3 retries + the first attempt), the others once each.
    expect(sweptInputs.filter((i) => (i as { repository: string }).repository === 'team/three')).toHaveLength(4);
    expect(sweptInputs[0]).toMatchObject({ mode: 'apply', force: false, correlationId: expect.any(String) });
    for (const i of expired) expect(await exists(a, i.repo, i.digest)).toBe(false);
    for (const i of kept) expect(await exists(a, i.repo, i.digest)).toBe(true);
    const deletes = (await new AuditLog(store).query({ action: 'retention.delete' })).filter((r) => r.outcome === 'success');
    expect(deletes).toHaveLength(4);
    expect(deletes.every((r) => r.actor === 'system:retention' && r.details?.rule === 'delete.olderThanDays')).toBe(true);
    // The dashboard's figures: one point per applied repository, by registry; the bytes are the summaries'.
    const deleted = points.filter((p) => p.name === 'RetentionDigestsDeleted');
    expect(deleted.map((p) => [p.dimensions.registry, p.value])).toEqual([['a', 2], ['a', 2]]);
    const freed = points.filter((p) => p.name === 'RetentionBytesFreed').reduce((n, p) => n + p.value, 0);
    expect(freed).toBe((byRepo['team/one'] as SweepSummary).bytesFreed + (byRepo['team/two'] as SweepSummary).bytesFreed);
    expect(freed).toBeGreaterThan(0);
  });
});
