// Crash and restart of the local stack: a stale endpoints.json (pid reused), a copy left in flight and a stale INPROGRESS record do not block the restart; the interruption is audited and reconcile at start-up repairs the target.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { DynamoReplicationState } from '../../functions/replication/dynamo-state.ts';
import { writeEndpoints } from '../../local/endpoints.ts';
import { registryConfigYaml } from '../../local/registry-process.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { pushImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const CONFIG = `version: 1
registries:
  src: { kind: oci, url: "\${REGMAN_E2E_SRC_URL}", public: true }
  east: { kind: oci, url: "\${REGMAN_E2E_EAST_URL}", public: true }
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    tags: { include: ["v*"] }
    targets: [{ registry: east }]
`;

describe('local stack restart after a crash', () => {
  let dir: string;
  let stack: LocalStack | undefined;
  const logs: string[] = [];

  beforeAll(() => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-recovery-'));
    writeFileSync(join(dir, 'local.yaml'), CONFIG);
    for (const v of ['REGMAN_E2E_SRC_URL', 'REGMAN_E2E_EAST_URL']) delete process.env[v];
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('audits the interrupted copy, clears the stale INPROGRESS record, ignores the stale endpoints.json and reconciles at start-up', async () => {
    // Prepare: a first run replicates team/app:v1, then leaves what a kill -9 mid-copy leaves behind
    const options = { configFile: join(dir, 'local.yaml'), stateDir: join(dir, 'state'), log: (l: string) => logs.push(l), retryDelaysMs: [100, 100], copyOptions: { retries: 0 } };
    const first = await startLocalStack(options);
    const image = await pushImage({ url: first.endpoints.registries.src! }, 'team/app', 'v1');
    await first.idle();
    const waitForEast = async (): Promise<void> => {
      for (let i = 0; i < 100 && !(await skopeoDigest(`${first.endpoints.registries.east!.slice(7)}/team/app:v1`).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 100));
    };
    await waitForEast();
    await first.idle();
    // The target lost the image (the interrupted copy never tagged it)…
    const eastHost = first.endpoints.registries.east!;
    expect((await new RawRegistryClient(eastHost).request('DELETE', `/v2/team/app/manifests/${image.digest}`)).status).toBe(202);
    // …the dead process's in-flight marker and INPROGRESS idempotency record stayed…
    const db = createDynamoClients({ endpoint: first.endpoints.dynamodb.endpoint, region: 'local' });
    const tables = first.endpoints.dynamodb.tables;
    await new DynamoReplicationState({ docClient: db.docClient, tableName: tables.replicationState! }).copyStarted({
      correlationId: 'crashed-event', rule: 'mirror', source: 'src', target: 'east', repository: 'team/app', targetRepository: 'team/app', digest: image.digest, tag: 'v1', startedAt: '2026-12-01T23:00:00.000Z',
    });
    await db.docClient.send(new PutCommand({ TableName: tables.idempotency!, Item: { id: 'regman-local-replicate#stale', status: 'INPROGRESS', expiration: 4_102_444_800, in_progress_expiration: 4_102_444_800_000 } }));
    db.destroy();
    await first.stop();
    // …and endpoints.json names a pid that is alive again, but is no local stack (this test process).
    await writeEndpoints(options.stateDir, { ...first.endpoints, pid: process.pid, control: 'http://127.0.0.1:9' });

    // Act
    stack = await startLocalStack(options);

    // Assess: started; the interruption is audited; the stale record is gone; the target is repaired
    expect(logs.some((l) => /endpoints\.json of pid \d+ is stale/.test(l))).toBe(true);
    const opened = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    try {
      const records = await opened.log.query({ order: 'oldest-first' });
      const interrupted = records.filter((r) => r.action === 'replicate.interrupted');
      expect(interrupted).toHaveLength(1);
      expect(interrupted[0]).toMatchObject({ correlationId: 'crashed-event', outcome: 'failure', errorCode: 'INTERRUPTED', target: 'east', digest: image.digest, details: { startedAt: '2026-12-01T23:00:00.000Z' } });
      expect(records.filter((r) => r.action === 'reconcile').map((r) => `${r.target} ${r.outcome} ${r.digest}`)).toEqual([`east success ${image.digest}`]);
    } finally {
      opened.close();
    }
    expect(await skopeoDigest(`${stack.endpoints.registries.east!.slice(7)}/team/app:v1`)).toBe(image.digest);
    const after = createDynamoClients({ endpoint: stack.endpoints.dynamodb.endpoint, region: 'local' });
    try {
      expect((await after.docClient.send(new GetCommand({ TableName: tables.idempotency!, Key: { id: 'regman-local-replicate#stale' } }))).Item).toBeUndefined();
      expect(await new DynamoReplicationState({ docClient: after.docClient, tableName: tables.replicationState! }).copiesInFlight()).toEqual([]);
    } finally {
      after.destroy();
    }
  });

  it('the local registries purge abandoned uploads after an hour', () => {
    const yaml = registryConfigYaml({ port: 5000, rootDir: '/d' });
    expect(yaml).toMatch(/uploadpurging:\n\s+enabled: true\n\s+age: 1h/);
  });
});
