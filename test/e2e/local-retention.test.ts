// End to end on the local stack: POST /retention plans without deleting; ?apply=1 deletes exactly the planned digests, audited.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { controlHeaders } from '../../local/control-auth.ts';
import type { LocalRetentionResult, LocalStack } from '../../local/stack.ts';
import { startLocalStack } from '../../local/stack.ts';
import { cosignTag, pushCosignSignature, pushImage, pushOciIndex, type PushedImage, type PushedIndex } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

/** A source and a target (the stack needs a replication rule); the retention policy governs src's shop/* only. */
const CONFIG = `version: 1
registries:
  src:
    kind: oci
    url: \${REGMAN_E2E_RET_SRC_URL}
    public: true
    storagePricePerGbMonth: 0.1
  dst:
    kind: oci
    url: \${REGMAN_E2E_RET_DST_URL}
    public: true
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    targets:
      - registry: dst
retention:
  - name: shop
    registries: [src]
    repositories: ["shop/*"]
    rules:
      delete: { untagged: true, olderThanDays: 30 }
      keep: { tags: ["v*", "stable", "latest"] }
    untaggedGraceHours: 0
  - name: inflight
    registries: [src]
    repositories: ["inflight/*"]
    rules:
      delete: { untagged: true }
      keep: { tags: ["v*"] }
`;

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

describe('local stack retention (e2e)', () => {
  let dir: string;
  let stack: LocalStack;
  let src: { url: string; host: string };
  let multi: PushedIndex;
  let release: PushedImage;
  let releaseSig: PushedImage;
  let dangling: PushedImage;
  let danglingSig: PushedImage;
  let dangling2: PushedImage;
  let fresh: PushedImage;
  let inflight: PushedImage[];

  async function post(path: string): Promise<LocalRetentionResult> {
    const res = await fetch(`${stack.endpoints.control}${path}`, { method: 'POST', headers: controlHeaders(stack.endpoints.controlToken) });
    expect(res.status).toBe(200);
    return (await res.json()) as LocalRetentionResult;
  }

  const shop = (r: LocalRetentionResult) => r.reports.find((x) => x.repository === 'shop/app');

  async function exists(digest: string, repo = 'shop/app'): Promise<boolean> {
    const res = await new RawRegistryClient(src).request('HEAD', `/v2/${repo}/manifests/${digest}`, { headers: { accept: ACCEPT } });
    return res.status === 200;
  }

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-retention-'));
    const configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    stack = await startLocalStack({ configFile, stateDir: join(dir, 'state'), retryDelaysMs: [200, 400] });
    const url = stack.endpoints.registries.src!;
    src = { url, host: url.replace(/^http:\/\//, '') };
    // A multi-arch index with an attestation-like unknown/unknown child, a signed release, a fresh tag,
    // and two untagged images pushed by digest (one signed): only the push log knows those two.
    multi = await pushOciIndex(src, 'shop/app', 'stable', ['linux/amd64', 'linux/arm64', 'unknown/unknown'], { layers: [32], sharedLayerSize: 64 });
    release = await pushImage(src, 'shop/app', 'v1', { layers: [48] });
    releaseSig = await pushCosignSignature(src, 'shop/app', release.digest);
    fresh = await pushImage(src, 'shop/app', 'latest', { layers: [16] });
    dangling = await pushImage(src, 'shop/app', undefined, { layers: [40] });
    danglingSig = await pushCosignSignature(src, 'shop/app', dangling.digest);
    dangling2 = await pushImage(src, 'shop/app', undefined, { layers: [24] });
    // A multi-arch push in progress: its platform manifests are up (untagged), the index is not yet.
    inflight = [
      await pushImage(src, 'inflight/app', undefined, { layers: [20], platform: 'linux/amd64' }),
      await pushImage(src, 'inflight/app', undefined, { layers: [20], platform: 'linux/arm64' }),
    ];
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run (POST /retention) plans the untagged images and their signature, and deletes nothing', async () => {
    // Act: the push notifications arrive asynchronously; poll until the push log has the untagged pushes.
    let result: LocalRetentionResult | undefined;
    const deadline = Date.now() + 20_000;
    for (;;) {
      result = await post('/retention');
      if (shop(result)?.plan.expire.length === 3 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // Assess
    expect(result.mode).toBe('dry-run');
    expect(result.errors).toEqual([]);
    expect(result.reports.map((r) => r.repository).sort()).toEqual(['inflight/app', 'shop/app']);
    const report = shop(result)!;
    expect(report).toMatchObject({ registry: 'src', repository: 'shop/app', policyName: 'shop', status: 'planned', counts: { deleted: 0 } });
    expect(new Set(report.plan.expire.map((e) => e.digest))).toEqual(new Set([dangling.digest, danglingSig.digest, dangling2.digest]));
    expect(report.plan.expire.find((e) => e.digest === dangling.digest)?.rule).toBe('delete.untagged');
    expect(report.estimatedMonthlySaving).not.toBeNull();
    for (const d of [dangling.digest, danglingSig.digest, dangling2.digest]) expect(await exists(d)).toBe(true);
  });

  it('an apply (POST /retention?apply=1) deletes exactly the planned digests, keeps every tag whole, and audits each deletion', async () => {
    // Prepare
    const planned = shop(await post('/retention'))!.plan.expire.map((e) => e.digest);

    // Act
    const result = await post('/retention?apply=1');

    // Assess
    const report = shop(result)!;
    expect(result.mode).toBe('apply');
    expect(report.status).toBe('applied');
    expect(report.deleted.map((d) => d.digest).sort()).toEqual([...planned].sort());
    for (const d of planned) expect(await exists(d)).toBe(false);
    for (const d of [multi.digest, ...multi.children.map((c) => c.digest), release.digest, releaseSig.digest, fresh.digest]) expect(await exists(d)).toBe(true);
    expect(await skopeoDigest(`${src.host}/shop/app:stable`)).toBe(multi.digest);
    expect(await skopeoDigest(`${src.host}/shop/app:${cosignTag(release.digest, 'sig')}`)).toBe(releaseSig.digest);
    expect(report.verified?.problems).toEqual([]);

    const audit = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    try {
      const deletes = await audit.log.query({ action: 'retention.delete', repository: 'shop/app' });
      expect(deletes.map((r) => r.digest).sort()).toEqual([...planned].sort());
      expect(deletes.every((r) => r.outcome === 'success' && r.actor === 'system:retention' && r.correlationId === result.correlationId)).toBe(true);
      expect(deletes.find((r) => r.digest === danglingSig.digest)?.details).toMatchObject({ rule: 'delete.untagged', reason: expect.stringMatching(/referrer .* of expiring/) });
    } finally {
      audit.close();
    }

    // The stack's own method is the same sweep: nothing is left to expire.
    const again = await stack.retention();
    expect(again.reports[0]!.counts.expired).toBe(0);
  });

  it('a multi-arch push in progress is not broken: its untagged platform manifests stay through an apply (24 h grace by default), and the index push then succeeds', async () => {
    // Prepare: wait until the push log knows both platform manifests (the plan keeps them by the grace rule).
    let kept: string[] = [];
    const deadline = Date.now() + 20_000;
    while (kept.length < 2 && Date.now() < deadline) {
      const plan = (await post('/retention')).reports.find((r) => r.repository === 'inflight/app')?.plan;
      kept = (plan?.keep ?? []).filter((k) => /within the 24 h grace period/.test(k.reason)).map((k) => k.digest);
      if (kept.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(kept.sort()).toEqual(inflight.map((i) => i.digest).sort());

    // Act: a sweep that deletes runs in the middle of the push; then the index arrives.
    const applied = (await post('/retention?apply=1')).reports.find((r) => r.repository === 'inflight/app')!;
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: inflight.map((i, n) => ({ ...i.descriptor, platform: { os: 'linux', architecture: n === 0 ? 'amd64' : 'arm64' } })),
    }));
    const put = await new RawRegistryClient(src).putManifest('inflight/app', 'v2', index, 'application/vnd.oci.image.index.v1+json');

    // Assess
    expect(applied.counts).toMatchObject({ expired: 0, deleted: 0 });
    for (const i of inflight) expect(await exists(i.digest, 'inflight/app')).toBe(true);
    expect(await skopeoDigest(`${src.host}/inflight/app:v2`)).toBe(put);
  });
});
