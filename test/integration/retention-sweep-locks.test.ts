// The retention-sweep Lambda handler honours promotion locks as on AWS: PROMOTIONS_TABLE (dynalite) → lockedDigests → a promoted old digest survives an apply sweep.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import { Environment } from '../../functions/env.ts';
import { createRetentionSweepHandler, retentionDepsFromEnvironment, type RetentionDeps } from '../../functions/handlers/retention-sweep.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { closeAdapters } from '../../functions/registries/factory.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const OLD = { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' };
const REPO = 'team/app';

describe('retention-sweep handler with PROMOTIONS_TABLE (dynalite, a real registry)', () => {
  let reg: RunningRegistry;
  let db: DynaliteHandle;
  let dir: string;
  let deps: RetentionDeps | undefined;
  let promoted: PushedImage;
  let previous: PushedImage;
  let stale: PushedImage;

  const exists = async (digest: string) =>
    (await new RawRegistryClient(reg).request('HEAD', `/v2/${REPO}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status === 200;

  beforeAll(async () => {
    [reg, db] = await Promise.all([startRegistry(), startDynalite()]);
    previous = await pushImage(reg, REPO, 'build-1', { layers: [32], annotations: OLD });
    promoted = await pushImage(reg, REPO, 'build-2', { layers: [32], annotations: OLD });
    stale = await pushImage(reg, REPO, 'build-3', { layers: [32], annotations: OLD });
    // prod went build-1 → build-2: build-2 is what it serves, build-1 its rollback target.
    const store = new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames });
    for (const [image, time] of [[previous, '2026-01-01T00:00:00Z'], [promoted, '2026-02-01T00:00:00Z']] as const) {
      await store.addHistory({ environment: 'prod', repository: REPO, digest: image.digest, tag: 'build', time, executionId: `promo-${time}`, requester: 'cli:rita', approvers: [], gates: [], kind: 'promote' });
    }
    dir = mkdtempSync(join(tmpdir(), 'regman-sweep-locks-'));
    const config = {
      version: 1,
      registries: { prod: { kind: 'oci', url: reg.url, public: true } },
      environments: { prod: { registries: ['prod'] } },
      retention: [{ name: 'builds', registries: ['prod'], rules: { delete: { olderThanDays: 30 } } }],
    };
    writeFileSync(join(dir, 'regman.config.json'), JSON.stringify(config));
    // The variables the CDK stack sets on the sweep function (lib/registry-manager-stack.ts).
    const env = new Environment({
      REGMAN_CONFIG_PATH: join(dir, 'regman.config.json'),
      AUDIT_TABLE: db.tableNames.audit,
      PROMOTIONS_TABLE: db.tableNames.promotions,
      REGMAN_DYNAMODB_ENDPOINT: db.endpoint,
      AWS_REGION: 'us-east-1',
    });
    deps = await retentionDepsFromEnvironment(env, dir);
  }, 120_000);

  afterAll(async () => {
    if (deps) closeAdapters(deps.adapters.values());
    await Promise.all([reg?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the promoted digest and its rollback target, and deletes only the unpromoted one (the policy expires all three)', async () => {
    // Prepare
    const quiet = { logger: new Logger({ logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) };
    const sweep = createRetentionSweepHandler(() => deps!, quiet);

    // Act
    const summary = await sweep({ registry: 'prod', repository: REPO, policy: 'builds', mode: 'apply', force: true, correlationId: 'sweep-locks' });

    // Assess
    expect(summary).toMatchObject({ status: 'applied', counts: { deleted: 1, failed: 0 } });
    expect(await exists(stale.digest)).toBe(false);
    expect(await exists(promoted.digest)).toBe(true);
    expect(await exists(previous.digest)).toBe(true);
    const audit = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
    const records = await audit.query({ correlationId: 'sweep-locks' });
    expect(records.filter((r) => r.action === 'retention.delete' && r.outcome === 'success').map((r) => r.digest)).toEqual([stale.digest]);
  });
});
