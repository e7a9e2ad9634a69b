// The promotion state machine run locally (same ASL as AWS) over real registries and dynalite: gates, approval, tags, sync, rollback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval, MinimalApprovalRequester } from '../../functions/approvals/minimal-requester.ts';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { loadConfig } from '../../functions/config/index.ts';
import type { GateResult } from '../../functions/gates/types.ts';
import type { PromotionDeps } from '../../functions/promotion/deps.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { createLocalPromotions, type LocalPromotions, type PromotionRequest } from '../../local/promotions.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { readFileSync } from 'node:fs';
import { createGateRunners } from '../../functions/promotion/gate-runners.ts';
import { rollbackEnvironment } from '../../functions/promotion/rollback-env.ts';
import { pushImage, pushReferrer, type PushedImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

describe('promotion.asl.json (local Step Functions, real registries, dynalite)', () => {
  let dev: RunningRegistry;
  let stg: RunningRegistry;
  let prodA: RunningRegistry;
  let prodB: RunningRegistry;
  let proxy: FaultProxy;
  let db: DynaliteHandle;
  let dir: string;
  let deps: PromotionDeps & { store: DynamoPromotionStore };
  let auditStore: InMemoryAuditStore;
  let promotions: LocalPromotions;
  let v1: PushedImage;
  /** What the scan gate answers, per digest (the real gate is functions/gates/; here the workflow around it is under test). */
  const scanVerdicts = new Map<string, boolean>();

  const request = (over: Partial<PromotionRequest> = {}): PromotionRequest => ({ repository: 'app', tag: 'v1', from: 'dev', to: 'staging', requester: 'cli:dana', ...over });
  const tagAt = (reg: RunningRegistry, ref: string): Promise<string | undefined> => skopeoDigest(`${reg.host}/${ref}`).catch(() => undefined);

  async function run(over: Partial<PromotionRequest> = {}, approve?: (id: string) => Promise<void>) {
    const { executionId } = await promotions.start(request(over));
    if (approve) await approve(executionId);
    const result = await promotions.wait(executionId);
    const record = (await deps.store.getExecution(executionId))!;
    if (process.env.DEBUG_PROMO) console.error(JSON.stringify({ result, record }, null, 1));
    return { executionId, result, record };
  }

  async function waitForApproval(id: string): Promise<void> {
    for (let i = 0; i < 200; i += 1) {
      if (await deps.store.getApproval(id)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${id} never asked for approval`);
  }

  const approveAs = (...who: string[]) => async (id: string) => {
    await waitForApproval(id);
    for (const identity of who) await decideApproval(deps.store, promotions.completer, { executionId: id, identity, approve: true });
  };

  beforeAll(async () => {
    [dev, stg, prodA, prodB, db] = await Promise.all([startRegistry(), startRegistry(), startRegistry(), startRegistry(), startDynalite()]);
    proxy = await startFaultProxy(prodB.url);
    dir = mkdtempSync(join(tmpdir(), 'regman-promotion-asl-'));
    const file = join(dir, 'registries.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'registries:',
        `  dev: { kind: oci, url: '${dev.url}', public: true }`,
        `  stg: { kind: oci, url: '${stg.url}', public: true }`,
        `  prod-a: { kind: oci, url: '${prodA.url}', public: true }`,
        `  prod-b: { kind: oci, url: '${proxy.url}', public: true }`,
        'environments:',
        '  dev: { registries: [dev] }',
        '  staging: { registries: [stg] }',
        '  qa: { registries: [stg], freezeWindows: [{ start: "2020-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z", reason: "year-end" }] }',
        '  prod: { registries: [prod-a, prod-b] }',
        '  canary: { registries: [prod-a, prod-b] }',
        'promotion:',
        '  - { from: dev, to: staging, gates: { approval: { approvers: [alice, bob], required: 1, expiresInHours: 0.0003 } } }',
        '  - { from: dev, to: qa }',
        '  - { from: staging, to: prod, requires: [staging], gates: { scan: { maxFindings: { critical: 0 } } } }',
        '  - { from: staging, to: canary, autoRollback: false }',
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file, { env: {} });
    auditStore = new InMemoryAuditStore();
    const store = new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames });
    const scan = async (input: { digest: string }): Promise<GateResult> => {
      const passed = scanVerdicts.get(input.digest) ?? true;
      return passed
        ? { gate: 'scan', passed, summary: '0 critical' }
        : { gate: 'scan', passed, summary: '1 critical', reason: `app@${input.digest}: 1 critical finding (CVE-2026-0001), the edge allows 0` };
    };
    deps = {
      config,
      adapters: createAdapters(config, { ociOptions: { retry: { maxAttempts: 1 } } }),
      audit: new AuditLog(auditStore),
      store,
      gates: { scan },
      approvals: new MinimalApprovalRequester({ store, edges: config.promotion }),
      copyOptions: { retries: 0, retryDelayMs: 1 },
    };
    promotions = createLocalPromotions({ deps: () => deps, retryIntervalMs: 0 });
    v1 = await pushImage(dev, 'app', 'v1', { layers: [256, 512] });
  }, 120_000);

  afterAll(async () => {
    if (deps) closeAdapters(deps.adapters.values());
    await Promise.all([dev?.stop(), stg?.stop(), prodA?.stop(), prodB?.stop(), proxy?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('happy path: approved by one approver, both tags written in staging, history and one correlation id in the audit log', async () => {
    const { executionId, result, record } = await run({}, approveAs('alice'));
    expect(result.status).toBe('SUCCEEDED');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.digest).toBe(v1.digest);
    expect(record.approvers.map((a) => a.identity)).toEqual(['alice']);
    expect(record.envTag).toMatch(/^staging-v1-\d{8}-\d{6}$/);
    expect(await tagAt(stg, 'app:v1')).toBe(v1.digest);
    expect(await tagAt(stg, `app:${record.envTag}`)).toBe(v1.digest);
    expect((await deps.store.history('staging', 'app')).map((h) => h.digest)).toEqual([v1.digest]);
    const records = (await new AuditLog(auditStore).query({ repository: 'app' })).filter((r) => r.details?.executionId === executionId);
    expect(new Set(records.map((r) => r.correlationId)).size).toBe(1);
    expect(records.map((r) => r.action)).toEqual(expect.arrayContaining(['promote.validate', 'promote.request-approval', 'promote.sync', 'promote.record']));
    // Sync names the pair and the bytes, as replication does: the cost and usage reports price and count promotion transfer per pair.
    const sync = records.find((r) => r.action === 'promote.sync')!;
    expect(sync).toMatchObject({ source: 'dev', target: 'stg', bytes: sync.details?.bytesUploaded });
    expect(sync.bytes).toBeGreaterThan(0);
  });

  it('a tag moved during the run: the digest Validate resolved is promoted', async () => {
    await pushImage(dev, 'app', 'v9', { layers: [64] });
    const first = await pushImage(dev, 'app', 'moving', { layers: [64] });
    const { result, record } = await run({ tag: 'moving' }, async (id) => {
      await waitForApproval(id);
      await pushImage(dev, 'app', 'moving', { layers: [65] });
      await approveAs('bob')(id);
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(record.digest).toBe(first.digest);
    expect(await tagAt(stg, 'app:moving')).toBe(first.digest);
  });

  it('approval rejected → REJECTED, no tag written', async () => {
    const img = await pushImage(dev, 'app', 'v2', { layers: [64] });
    const { result, record } = await run({ tag: 'v2' }, async (id) => {
      await waitForApproval(id);
      await decideApproval(deps.store, promotions.completer, { executionId: id, identity: 'bob', approve: false, comment: 'not today' });
    });
    expect(result.status).toBe('FAILED');
    expect(record.status).toBe('REJECTED');
    expect(record.error?.message).toMatch(/rejected by bob: not today/);
    expect(await tagAt(stg, 'app:v2')).toBeUndefined();
    expect(img.digest).toMatch(/^sha256:/);
  });

  it('rollback: staging goes back to the previous promoted digest, through tags only, and is held there', async () => {
    const history = await deps.store.history('staging', 'app');
    const current = history[0]!;
    const previous = history.find((h) => h.digest !== current.digest)!;
    const result = await rollbackEnvironment({ environment: 'staging', repository: 'app', reason: 'bad release', actor: 'cli:ops', correlationId: 'rb-1' }, deps);
    expect(result).toMatchObject({ from: current.digest, to: previous.digest });
    expect(await tagAt(stg, `app:${previous.tag}`)).toBe(previous.digest);
    expect((await deps.store.history('staging', 'app'))[0]).toMatchObject({ digest: previous.digest, kind: 'rollback' });
    expect(await deps.store.getHold('staging', 'app')).toMatchObject({ by: 'cli:ops', digest: previous.digest });
    const refused = await run({ tag: 'v1' });
    expect(refused.record.error?.code).toBe('HELD');
    await expect(rollbackEnvironment({ environment: 'staging', repository: 'app', to: 'never-promoted', reason: 'x', actor: 'cli:ops', correlationId: 'rb-2' }, deps)).rejects.toThrow(/never-promoted was never promoted/);
    await deps.store.deleteHold('staging', 'app');
  });

  it('the requester cannot approve their own promotion', async () => {
    await pushImage(dev, 'app', 'v4', { layers: [64] });
    const { executionId } = await promotions.start(request({ tag: 'v4', requester: 'alice' }));
    await waitForApproval(executionId);
    await expect(decideApproval(deps.store, promotions.completer, { executionId, identity: 'alice', approve: true })).rejects.toThrow(/cannot approve/);
    await decideApproval(deps.store, promotions.completer, { executionId, identity: 'bob', approve: false });
    expect((await promotions.wait(executionId)).status).toBe('FAILED');
  });

  it('approval times out → TIMED_OUT, no tag written', async () => {
    await pushImage(dev, 'app', 'v3', { layers: [64] });
    const { result, record } = await run({ tag: 'v3' });
    expect(result.status).toBe('FAILED');
    expect(record.status).toBe('TIMED_OUT');
    expect(await tagAt(stg, 'app:v3')).toBeUndefined();
  }, 20_000);

  it('bad input: unknown edge, missing tag, frozen environment: clear message, audit record, no tag', async () => {
    const cases: [Partial<PromotionRequest>, RegExp, string][] = [
      [{ to: 'prod' }, /no promotion edge dev → prod.*edges: dev → staging/, 'UNKNOWN_EDGE'],
      [{ tag: 'nope' }, /app:nope does not exist in dev/, 'TAG_NOT_FOUND'],
      [{ to: 'qa' }, /qa is frozen from .* \(year-end\).*--override-freeze/, 'FROZEN'],
      [{ to: 'qa', overrideFreeze: true }, /--override-freeze needs --reason/, 'BAD_INPUT'],
    ];
    for (const [over, message, code] of cases) {
      const { executionId, record } = await run(over);
      expect(record.status, code).toBe('FAILED');
      expect(record.error?.code).toBe(code);
      expect(record.error?.message).toMatch(message);
      const audit = (await new AuditLog(auditStore).query({ action: 'promote.validate' })).find((r) => r.details?.executionId === executionId);
      expect(audit?.outcome).toBe('rejected');
      expect(audit?.errorCode).toBe(code);
      // Once the tag resolved, a blocked run names the digest it refused (the compliance report lists it).
      if (code === 'FROZEN') expect(audit?.digest).toMatch(/^sha256:/);
    }
    expect(await tagAt(stg, 'app:nope')).toBeUndefined();
    const overridden = await run({ to: 'qa', tag: 'v9', overrideFreeze: true, reason: 'hotfix' });
    expect(overridden.record.status).toBe('SUCCEEDED');
  });

  it('a failed scan gate quarantines the digest; no tag in prod; the next promotion of it is refused at Validate', async () => {
    const bad = await pushImage(stg, 'app', 'bad', { layers: [64] });
    await deps.store.addHistory({ environment: 'staging', repository: 'app', digest: bad.digest, tag: 'bad', time: new Date().toISOString(), executionId: 'seed', requester: 'cli:seed', approvers: [], gates: [], kind: 'promote' });
    scanVerdicts.set(bad.digest, false);
    const { record } = await run({ tag: 'bad', from: 'staging', to: 'prod' });
    expect(record.status).toBe('FAILED');
    expect(record.gates.find((g) => g.gate === 'scan')?.passed).toBe(false);
    expect((await deps.store.getQuarantine(bad.digest))?.reason).toMatch(/1 critical finding/);
    expect(await tagAt(prodA, 'app:bad')).toBeUndefined();
    const again = await run({ tag: 'bad', from: 'staging', to: 'prod' });
    expect(again.record.error?.code).toBe('QUARANTINED');
    expect(again.record.error?.message).toMatch(/quarantine release/);
  });

  it('the real scan gate (a SARIF report with one critical attached as a referrer) quarantines the digest', async () => {
    const real = createLocalPromotions({ deps: () => ({ ...deps, gates: createGateRunners({ adapters: deps.adapters }) }), retryIntervalMs: 0 });
    const image = await pushImage(stg, 'app', 'sarif', { layers: [64] });
    await pushReferrer(stg, 'app', image.descriptor, { artifactType: 'application/sarif+json', data: readFileSync(new URL('../fixtures/scan-reports/trivy.sarif.json', import.meta.url)) });
    await deps.store.addHistory({ environment: 'staging', repository: 'app', digest: image.digest, tag: 'sarif', time: new Date().toISOString(), executionId: 'seed-sarif', requester: 'cli:seed', approvers: [], gates: [], kind: 'promote' });
    const { executionId } = await real.start(request({ tag: 'sarif', from: 'staging', to: 'prod' }));
    await real.wait(executionId);
    const record = (await deps.store.getExecution(executionId))!;
    expect(record.status).toBe('FAILED');
    expect(record.error?.message).toBe(`app@${image.digest} has too many findings: 1 critical > 0 (1 critical, 2 high, 1 medium, 1 low)`);
    expect((await deps.store.getQuarantine(image.digest))?.gate).toBe('scan');
    expect(await tagAt(prodA, 'app:sarif')).toBeUndefined();
  });

  it('requires: a digest never promoted to staging is refused for prod', async () => {
    await pushImage(stg, 'app', 'direct', { layers: [64] });
    const { record } = await run({ tag: 'direct', from: 'staging', to: 'prod' });
    expect(record.error?.code).toBe('UPSTREAM_MISSING');
  });

  it('sync fails on one prod registry → rollback restores the previous tags in every registry (checked with skopeo)', async () => {
    const release = await pushImage(stg, 'app', 'rel', { layers: [48] });
    await deps.store.addHistory({ environment: 'staging', repository: 'app', digest: release.digest, tag: 'rel', time: new Date().toISOString(), executionId: 'seed-rel', requester: 'cli:seed', approvers: [], gates: [], kind: 'promote' });
    const old = await pushImage(prodA, 'app', 'rel', { layers: [32] });
    const oldB = await pushImage(proxy, 'app', 'rel', { layers: [32] });
    // prod-b refuses blob uploads: prod-a gets the new digest first, then the Map fails.
    const fault = proxy.inject({ ...Routes.blobUploadStart, times: Infinity, fault: { kind: 'status', status: 403 } });
    let envTag: string | undefined;
    try {
      const { record } = await run({ tag: 'rel', from: 'staging', to: 'prod' });
      expect(record.status).toBe('ROLLED_BACK');
      expect(record.error?.message).toMatch(/sync of app:rel@sha256:[0-9a-f]+ to prod-b failed/);
      expect(record.tagMoves.filter((m) => m.tag === 'rel').map((m) => m.previous)).toEqual([old.digest, oldB.digest]);
      envTag = record.envTag;
    } finally {
      fault.remove();
    }
    expect(await tagAt(prodA, 'app:rel')).toBe(old.digest);
    expect(await tagAt(prodB, 'app:rel')).toBe(oldB.digest);
    expect(await tagAt(prodA, `app:${envTag}`)).toBeUndefined();
    expect(await tagAt(prodA, `app@${release.digest}`)).toBeUndefined();
    const rollback = (await new AuditLog(auditStore).query({ action: 'promote.rollback' }))[0];
    expect(rollback?.outcome).toBe('success');
  });

  it('autoRollback: false → the failed sync leaves the tags in place, the run is FAILED and the skipped rollback is audited', async () => {
    const release = await pushImage(stg, 'app', 'can', { layers: [40] });
    const oldB = await pushImage(proxy, 'app', 'can', { layers: [24] });
    const fault = proxy.inject({ ...Routes.blobUploadStart, times: Infinity, fault: { kind: 'status', status: 403 } });
    try {
      const { record } = await run({ tag: 'can', from: 'staging', to: 'canary' });
      expect(record.status).toBe('FAILED');
      expect(record.error?.message).toMatch(/sync of app:can@sha256:[0-9a-f]+ to prod-b failed/);
      expect(record.tagsWritten).toContain('prod-a/app:can');
    } finally {
      fault.remove();
    }
    // prod-a keeps what the run wrote; prod-b never got it.
    expect(await tagAt(prodA, 'app:can')).toBe(release.digest);
    expect(await tagAt(prodB, 'app:can')).toBe(oldB.digest);
    const rollback = (await new AuditLog(auditStore).query({ action: 'promote.rollback' }))[0];
    expect(rollback).toMatchObject({ outcome: 'skipped', digest: release.digest });
    expect(JSON.stringify(rollback?.details)).toMatch(/autoRollback is false on the edge staging → canary/);
  });
});
