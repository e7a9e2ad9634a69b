// End to end on the embedded local stack: an image above the fan-out limit is copied by the
// replicate-large state machine (the same ASL as on AWS) instead of inside the handler.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog, type StoredAuditRecord } from '../../functions/audit/index.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { pushOciIndex } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const CONFIG = `version: 1
registries:
  src: { kind: oci, url: "\${REGMAN_E2E_LARGE_SRC_URL}", public: true }
  east: { kind: oci, url: "\${REGMAN_E2E_LARGE_EAST_URL}", public: true }
  west: { kind: oci, url: "\${REGMAN_E2E_LARGE_WEST_URL}", public: true }
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    tags: { include: ["v*"] }
    targets:
      - registry: east
      - registry: west
        repositoryPrefix: mirror
`;

describe('local stack: large images fan out over the replicate-large state machine', () => {
  let dir: string;
  let stack: LocalStack;
  const logs: string[] = [];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-large-'));
    const configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    // Unset variables get free ports.
    for (const v of ['REGMAN_E2E_LARGE_SRC_URL', 'REGMAN_E2E_LARGE_EAST_URL', 'REGMAN_E2E_LARGE_WEST_URL']) delete process.env[v];
    stack = await startLocalStack({
      configFile,
      stateDir: join(dir, 'state'),
      log: (l) => logs.push(l),
      retryDelaysMs: [200, 400],
      // A 64 KiB limit makes the few hundred KiB pushed here "large"; the decision is the same code as on AWS.
      fanout: { maxBytes: 64 * 1024, throughputBytesPerSecond: 50 * 1024 * 1024, safetyFactor: 0.5 },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('replicates a multi-arch index blob by blob to both targets with identical digests, audited as fanned out and then replicated', async () => {
    const src = stack.endpoints.registries.src!;
    const index = await pushOciIndex({ url: src }, 'team/big', 'v1', ['linux/amd64', 'linux/arm64'], { layers: [96 * 1024, 80 * 1024] });

    // idle() covers the push events and the executions they started.
    await stack.idle();

    const host = (name: string): string => stack.endpoints.registries[name]!.replace(/^http:\/\//, '');
    expect(await skopeoDigest(`${host('east')}/team/big:v1`)).toBe(index.digest);
    expect(await skopeoDigest(`${host('west')}/mirror/team/big:v1`)).toBe(index.digest);
    for (const child of index.children) expect(await skopeoDigest(`${host('west')}/mirror/team/big@${child.digest}`)).toBe(child.digest);

    const opened = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    let records: StoredAuditRecord[];
    try {
      records = (await opened.log.query({ order: 'oldest-first' })).filter((r) => r.digest === index.digest);
    } finally {
      opened.close();
    }
    const fanned = records.filter((r) => r.action === 'replicate.fanout');
    const replicated = records.filter((r) => r.action === 'replicate');
    expect(fanned.map((r) => r.target).sort()).toEqual(['east', 'west']);
    expect(replicated.map((r) => r.target).sort()).toEqual(['east', 'west']);
    expect(replicated.every((r) => r.outcome === 'success' && (r.blobs?.uploaded ?? 0) > 0)).toBe(true);
    // One correlation id from the push event through the execution's records.
    expect(new Set(records.map((r) => r.correlationId)).size).toBe(1);

    const text = logs.join('\n');
    expect(text).toMatch(/replicate → west\/mirror\/team\/big: large image, fanned out to execution \S+ \(\d+ bytes to copy > limit 65536/);
    expect(text).not.toMatch(/replicate → \S+: ok \(0 B/);
    expect(text).toMatch(/large image execution \S+: replicated \(v1@[0-9a-f]{12}\)\n {2}→ east\/team\/big: ok/);
    expect(text).not.toMatch(/duplicate delivery/);
    expect(text).toContain('large images      over 64.0 KiB to copy (all targets): the replicate-large state machine, in process');
    // No `schedules` in this config: the AWS defaults, as timers (reconcile on demand only here).
    expect(text).toMatch(/retention {9}nightly at 03:00 UTC \(dry runs\), and on demand/);
    expect(text).toMatch(/reconcile {9}on demand: curl -X POST/);
  });
});
