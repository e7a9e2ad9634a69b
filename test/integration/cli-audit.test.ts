// `regman copy` and `regman sync` write audit records (dynalite table or the local stack's state folder); anchors catch a deleted tail.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCopy, type CopyCommandOptions } from '../../bin/commands/copy.ts';
import { lineReporter } from '../../bin/commands/progress-bar.ts';
import { runSync } from '../../bin/commands/sync.ts';
import { verifyAnchored } from '../../functions/audit/anchoring.ts';
import { FileAnchorSink } from '../../functions/audit/anchors/file-sink.ts';
import { formatSeq } from '../../functions/audit/chain.ts';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { anchorFolder, anchorLocalLog } from '../../local/audit-anchors.ts';
import { openLocalAuditLog } from '../../local/audit-access.ts';
import { startLocalDynamo } from '../../local/dynamodb.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const base: CopyCommandOptions = { platform: [], referrers: true, plainHttp: true };
const env = { REGMAN_USER: 'tester' };

describe('CLI audit trail', () => {
  let a: RunningRegistry;
  let b: RunningRegistry;
  let db: DynaliteHandle;
  let dir: string;

  beforeAll(async () => {
    [a, b, db] = await Promise.all([startRegistry({}), startRegistry({}), startDynalite()]);
    await pushImage(a, 'team/app', 'v1', { layers: [1200, 800] });
    dir = mkdtempSync(join(tmpdir(), 'regman-cli-audit-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function copy(src: string, dst: string, opts: Partial<CopyCommandOptions>): Promise<{ notes: string[] }> {
    const notes: string[] = [];
    await runCopy(src, dst, { ...base, ...opts }, { stdout: () => undefined, stderr: (t) => notes.push(t), env, reporter: lineReporter(() => undefined) });
    return { notes };
  }

  it('copy records success and failure in the table, as cli:<user>, with one correlation id per run', async () => {
    // Prepare
    const table = { auditTable: db.tableNames.audit, auditEndpoint: db.endpoint };

    // Act
    await copy(`${a.host}/team/app:v1`, `${b.host}/mirror/app`, table);
    const failed = await copy(`${a.host}/team/app:nope`, `${b.host}/mirror/app`, table).catch((e: unknown) => e);
    const { log, close } = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tableNames.audit, region: 'local' });
    const records = await log.query({ repository: 'mirror/app', order: 'oldest-first' });
    close();

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ action: 'copy', actor: 'cli:tester', outcome: 'success', source: a.host, target: b.host, tags: ['v1'], details: { sourceRepository: 'team/app' } });
    expect(records[0]?.bytes).toBeGreaterThanOrEqual(2000);
    expect(records[0]?.digest).toMatch(/^sha256:/);
    expect(records[1]).toMatchObject({ outcome: 'failure', errorCode: expect.any(String) });
    expect(records[0]?.correlationId).toMatch(/^cli-/);
    expect(records[1]?.correlationId).not.toBe(records[0]?.correlationId);
  });

  it('copy without an audit destination still copies, and says it recorded nothing', async () => {
    const { notes } = await copy(`${a.host}/team/app:v1`, `${b.host}/plain/app`, {});
    expect(notes).toEqual(['audit: not recorded (no --state-dir, --audit-table or REGMAN_AUDIT_TABLE)']);
  });

  it('sync records one record per target and tag between configured names', async () => {
    // Prepare
    const configFile = join(dir, 'registries.yaml');
    writeFileSync(configFile, ['version: 1', 'registries:', '  src:', '    kind: oci', `    url: ${a.url}`, '    public: true', '  dst:', '    kind: oci', `    url: ${b.url}`, '    public: true', ''].join('\n'));
    const io = { stdout: () => undefined, stderr: () => undefined, env: { ...env, REGMAN_AUDIT_TABLE: db.tableNames.audit }, progress: 'lines' as const };

    // Act
    await runSync({ config: configFile, source: 'src', target: ['dst'], repository: 'team/app', referrers: true, platform: [], auditEndpoint: db.endpoint }, io);
    const { log, close } = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tableNames.audit, region: 'local' });
    const records = await log.query({ action: 'sync' });
    const byRun = await log.query({ correlationId: records[0]?.correlationId ?? '' });
    close();

    // Assess
    expect(records).toEqual([expect.objectContaining({ source: 'src', target: 'dst', repository: 'team/app', tags: ['v1'], outcome: 'success', actor: 'cli:tester' })]);
    expect(byRun).toHaveLength(1);
  });

  it('copy with --state-dir audits into the local log; an anchor then catches a deleted tail and head item', async () => {
    // Prepare: a stopped local stack's state folder.
    const stateDir = join(dir, 'state');
    const local = await startLocalDynamo({ path: join(stateDir, 'dynamodb') });
    await local.stop();

    // Act
    await copy(`${a.host}/team/app:v1`, `${b.host}/local/app`, { stateDir });
    await copy(`${a.host}/team/app:v1`, `${b.host}/local/app:v2`, { stateDir });
    const opened = await openLocalAuditLog(stateDir);
    try {
      await anchorLocalLog(opened.log, stateDir);
      const clean = await verifyAnchored(opened.log, new FileAnchorSink(anchorFolder(stateDir)));
      const records = await opened.log.query({ repository: 'local/app' });
      // Tamper: delete the newest record and its head item.
      const dbc = (opened.log as unknown as { store: { docClient: { send(c: unknown): Promise<unknown> }; tableName: string } }).store;
      await dbc.docClient.send(new DeleteCommand({ TableName: dbc.tableName, Key: { pk: 'repo#local/app', sk: formatSeq(2) } }));
      await dbc.docClient.send(new DeleteCommand({ TableName: dbc.tableName, Key: { pk: 'meta#heads', sk: 'repo#local/app' } }));
      const headOnly = await opened.log.verify();
      const anchored = await verifyAnchored(opened.log, new FileAnchorSink(anchorFolder(stateDir)));

      // Assess
      expect(records.map((r) => r.actor)).toEqual(['cli:tester', 'cli:tester']);
      expect(clean).toMatchObject({ ok: true, anchor: { heads: 1 } });
      expect(headOnly.ok).toBe(true);
      expect(anchored.firstBroken).toMatchObject({ partition: 'repo#local/app', seq: 2, reason: 'truncated' });
    } finally {
      await opened.close();
    }
  });
});
