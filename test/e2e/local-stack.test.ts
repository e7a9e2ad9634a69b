// End to end on the embedded local stack: pushes to the source reach every target digest-identical, audited once per target, with DLQ and reconcile.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatAuditTable } from '../../bin/commands/audit.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { formatSeq, openDynamoAuditLog, type StoredAuditRecord } from '../../functions/audit/index.ts';
import { listDeadLetters } from '../../functions/replication/dlq.ts';
import { controlHeaders } from '../../local/control-auth.ts';
import { LOCKED_MESSAGE } from '../../local/audit-access.ts';
import type { LocalEndpoints } from '../../local/endpoints.ts';
import { stableUuid } from '../../local/notifications.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { FixtureMediaType, cosignTag, pushCosignSignature, pushImage, pushOciIndex } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** One source and two targets, the second under a repository prefix; ports are chosen by the stack. */
const CONFIG = `version: 1
registries:
  src:
    kind: oci
    url: \${REGMAN_E2E_SRC_URL}
    public: true
  east:
    kind: oci
    url: \${REGMAN_E2E_EAST_URL}
    public: true
  west:
    kind: oci
    url: \${REGMAN_E2E_WEST_URL}
    public: true
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    tags:
      include: ["/^v\\\\d+(\\\\.\\\\d+)*$/", "latest"]
    targets:
      - registry: east
      - registry: west
        repositoryPrefix: mirror
    referrers: true
`;

const TARGETS = [
  { registry: 'east', repo: (r: string) => r },
  { registry: 'west', repo: (r: string) => `mirror/${r}` },
] as const;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The digest skopeo reads at `ref`, or undefined while it is not there. */
async function digestAt(ref: string): Promise<string | undefined> {
  try {
    return await skopeoDigest(ref);
  } catch {
    return undefined;
  }
}

function runAuditCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [join(ROOT, 'test', 'e2e', 'audit-cli.ts'), 'audit', ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('local stack end to end', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  let stack: LocalStack;
  let hosts: Record<string, string>;
  const logs: string[] = [];

  const auditRecords = async (): Promise<StoredAuditRecord[]> => {
    const opened = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    try {
      return await opened.log.query({ order: 'oldest-first' });
    } finally {
      opened.close();
    }
  };

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-'));
    stateDir = join(dir, 'state');
    configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    for (const v of ['REGMAN_E2E_SRC_URL', 'REGMAN_E2E_EAST_URL', 'REGMAN_E2E_WEST_URL']) delete process.env[v];
    stack = await startLocalStack({ configFile, stateDir, log: (l) => logs.push(l), retryDelaysMs: [200, 400], copyOptions: { retries: 0 } });
    hosts = Object.fromEntries(Object.entries(stack.endpoints.registries).map(([n, u]) => [n, u.replace(/^http:\/\//, '')]));
  });

  beforeEach((ctx) => {
    const from = logs.length;
    // The stack's own account of what happened is the quickest way to see why a test failed.
    ctx.onTestFailed(() => console.error(`local stack log during the test:\n${logs.slice(from).join('\n')}`));
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes endpoints.json with the registries, the source, DynamoDB and the control listener', () => {
    // Assess
    const written = JSON.parse(readFileSync(join(stateDir, 'endpoints.json'), 'utf8')) as LocalEndpoints;
    expect(written).toEqual(stack.endpoints);
    expect(Object.keys(written.registries).sort()).toEqual(['east', 'src', 'west']);
    expect(written.source).toBe('src');
    for (const url of Object.values(written.registries)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(written.dynamodb.tables).toMatchObject({ audit: 'regman-audit', idempotency: 'regman-idempotency' });
    expect(written.pid).toBe(process.pid);
    // The control token: fresh, and readable by the owner only.
    expect(written.controlToken).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(stateDir, 'endpoints.json')).mode & 0o777).toBe(0o600);
    expect(logs.join('\n')).not.toContain(written.controlToken);
    expect(logs.join('\n')).toContain(`skopeo copy --dest-tls-verify=false docker-archive:image.tar docker://${hosts.src}/app:v1`);
  });

  it('replicates a single-arch image, its cosign signature and a multi-arch index to every target with identical digests, audited once per target', async () => {
    // Prepare / Act: push an image, then (once it is replicated) its signature, and a multi-arch index.
    const image = await pushImage({ url: stack.endpoints.registries.src! }, 'team/app', 'v1', { layers: [2048, 1024] });
    for (const t of TARGETS) {
      const at = await waitFor(`team/app:v1 at ${t.registry}`, () => digestAt(`${hosts[t.registry]}/${t.repo('team/app')}:v1`));
      expect(at).toBe(image.digest);
    }
    const signature = await pushCosignSignature({ url: stack.endpoints.registries.src! }, 'team/app', image.digest);
    const index = await pushOciIndex({ url: stack.endpoints.registries.src! }, 'team/multi', 'v2', ['linux/amd64', 'linux/arm64']);

    // Assess: skopeo reads the same digests at every target.
    for (const t of TARGETS) {
      const sigRef = `${hosts[t.registry]}/${t.repo('team/app')}:${cosignTag(image.digest, 'sig')}`;
      expect(await waitFor(`the signature at ${t.registry}`, () => digestAt(sigRef))).toBe(signature.digest);
      const indexRef = `${hosts[t.registry]}/${t.repo('team/multi')}:v2`;
      expect(await waitFor(`team/multi:v2 at ${t.registry}`, () => digestAt(indexRef))).toBe(index.digest);
      for (const child of index.children) {
        expect(await digestAt(`${hosts[t.registry]}/${t.repo('team/multi')}@${child.digest}`)).toBe(child.digest);
      }
    }
    expect(await skopeoDigest(`${hosts.src}/team/app:v1`)).toBe(image.digest);

    // Assess: one successful replicate record per target for the image and for the index, none for the untagged children.
    await stack.idle();
    const records = (await auditRecords()).filter((r) => r.action === 'replicate');
    for (const digest of [image.digest, index.digest]) {
      const mine = records.filter((r) => r.digest === digest);
      expect(mine.map((r) => r.target).sort()).toEqual(['east', 'west']);
      expect(mine.every((r) => r.outcome === 'success' && r.source === 'src' && r.actor === 'event:aws.ecr')).toBe(true);
      expect(new Set(mine.map((r) => r.correlationId)).size).toBe(1);
    }
    expect(records.filter((r) => index.children.some((c) => c.digest === r.digest))).toEqual([]);
    expect(logs.some((l) => /replicate → east\/team\/app@\w+: ok/.test(l))).toBe(true);
  });

  it('does the work once when the same push event is delivered twice', async () => {
    // Prepare: an image on the source under a tag no rule replicates, and the envelope a push of a replicated tag would send.
    const image = await pushImage({ url: stack.endpoints.registries.src! }, 'team/dup', 'build-1');
    // The source must name the digest under the event's tags: replication never publishes a tag the source moved away from.
    const raw = new RawRegistryClient({ url: stack.endpoints.registries.src! });
    for (const tag of ['v7', 'v8']) await raw.putManifest('team/dup', tag, image.raw, image.mediaType);
    await stack.idle();
    const registryEventId = 'c0ffee00-0000-4000-8000-000000000001';
    const envelope = {
      events: [
        {
          id: registryEventId,
          timestamp: new Date().toISOString(),
          action: 'push',
          target: { mediaType: FixtureMediaType.OciManifest, size: image.size, digest: image.digest, length: image.size, repository: 'team/dup', url: `${stack.endpoints.registries.src}/v2/team/dup/manifests/${image.digest}`, tag: 'v7' },
          request: { id: 'r', addr: '127.0.0.1:1', host: hosts.src, method: 'PUT', useragent: 'e2e' },
          actor: {},
          source: { addr: 'e2e', instanceID: 'e2e' },
        },
      ],
    };
    const deliver = async (): Promise<number> => {
      const res = await fetch(`${stack.endpoints.control}/notifications/src`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', ...controlHeaders(stack.endpoints.controlToken) },
        body: JSON.stringify(envelope),
      });
      await res.arrayBuffer();
      return res.status;
    };

    // Act
    expect(await deliver()).toBe(200);
    await stack.idle();
    expect(await deliver()).toBe(200);
    await stack.idle();

    // Act: the same again, both deliveries at once this time (the second finds the first in progress and is retried).
    envelope.events[0]!.id = 'c0ffee00-0000-4000-8000-000000000002';
    envelope.events[0]!.target.tag = 'v8';
    expect(await Promise.all([deliver(), deliver()])).toEqual([200, 200]);
    await stack.idle();

    // Assess: replicated, and audited once per target under each event's id.
    const records = await auditRecords();
    for (const [id, tag] of [[registryEventId, 'v7'], ['c0ffee00-0000-4000-8000-000000000002', 'v8']] as const) {
      for (const t of TARGETS) expect(await digestAt(`${hosts[t.registry]}/${t.repo('team/dup')}:${tag}`)).toBe(image.digest);
      const correlationId = stableUuid(`src\n${id}`);
      const mine = records.filter((r) => r.correlationId === correlationId);
      expect(mine.map((r) => `${r.action} ${r.target} ${r.outcome} ${r.tags?.join(',')}`).sort()).toEqual([`replicate east success ${tag}`, `replicate west success ${tag}`]);
    }
    expect(await listDeadLetters(stack.dlqPath)).toEqual([]);
    expect(logs.filter((l) => l.includes('duplicate delivery: answered from the idempotency record')).length).toBeGreaterThanOrEqual(2);
  });

  it('audits a push from a registry the config does not know as event.rejected, without retrying it', async () => {
    // Prepare
    const digest = `sha256:${'b'.repeat(64)}`;
    const envelope = { events: [{ id: 'c0ffee00-0000-4000-8000-0000000000ff', action: 'push', target: { mediaType: FixtureMediaType.OciManifest, digest, repository: 'team/ghost', tag: 'v1', size: 1 } }] };

    // Act
    const res = await fetch(`${stack.endpoints.control}/notifications/nowhere`, { method: 'POST', headers: controlHeaders(stack.endpoints.controlToken), body: JSON.stringify(envelope) });
    await res.arrayBuffer();
    await stack.idle();

    // Assess
    expect(res.status).toBe(200);
    const correlationId = stableUuid(`nowhere\nc0ffee00-0000-4000-8000-0000000000ff`);
    const records = (await auditRecords()).filter((r) => r.correlationId === correlationId);
    expect(records.map((r) => `${r.action} ${r.outcome} ${r.errorCode}`)).toEqual(['event.rejected rejected SOURCE_UNKNOWN']);
    expect(logs.filter((l) => l.includes(correlationId.slice(0, 8)) && l.includes('event rejected (SOURCE_UNKNOWN)'))).toHaveLength(1);
  });

  it('audits a push while a target is down, dead-letters the event, and the next reconcile repairs the target', async () => {
    // Prepare: the west registry goes down.
    await stack.registries.processes.get('west')!.stop();

    // Act: push while it is down, and wait for the retries to run out.
    const image = await pushImage({ url: stack.endpoints.registries.src! }, 'team/outage', 'v1');
    const letter = await waitFor('the dead letter', async () => (await listDeadLetters(stack.dlqPath)).find((l) => (l.event as { detail?: Record<string, string> }).detail?.['image-digest'] === image.digest));
    await stack.idle();

    // Assess: east got it; west's failure is audited; the event is in the DLQ after 3 attempts.
    expect(await digestAt(`${hosts.east}/team/outage:v1`)).toBe(image.digest);
    expect(letter.attempts).toBe(3);
    expect(letter.error.message).toMatch(/west/);
    const records = (await auditRecords()).filter((r) => r.digest === image.digest && r.action === 'replicate');
    const west = records.filter((r) => r.target === 'west');
    expect(west.length).toBeGreaterThanOrEqual(1);
    expect(west.every((r) => r.outcome === 'failure' && typeof r.errorCode === 'string')).toBe(true);
    expect(logs.some((l) => l.includes('retries exhausted') && l.includes(stack.dlqPath))).toBe(true);

    // Act: west comes back; reconcile on demand through the control listener.
    await stack.registries.restart('west');
    const res = await fetch(`${stack.endpoints.control}/reconcile`, { method: 'POST', headers: controlHeaders(stack.endpoints.controlToken) });
    const report = (await res.json()) as { repaired: number; failed: number; items: { target: string; repository: string; tag: string; status: string }[] };

    // Assess
    expect(res.status).toBe(200);
    expect(report.failed).toBe(0);
    expect(report.items).toContainEqual(expect.objectContaining({ target: 'west', repository: 'team/outage', tag: 'v1', status: 'repaired' }));
    expect(await digestAt(`${hosts.west}/mirror/team/outage:v1`)).toBe(image.digest);
    const reconciled = (await auditRecords()).filter((r) => r.action === 'reconcile' && r.digest === image.digest);
    expect(reconciled.map((r) => `${r.target} ${r.outcome}`)).toEqual(['west success']);
  });

  it('`regman audit` queries and verifies through the running stack, and verify finds a tampered record', async () => {
    // Act / Assess: query and verify through endpoints.json.
    const query = await runAuditCli(['query', '--state-dir', stateDir, '--repository', 'team/app', '--action', 'replicate', '--json']);
    expect(query.code, query.stderr).toBe(0);
    const listed = JSON.parse(query.stdout) as StoredAuditRecord[];
    expect(listed.map((r) => r.target).sort()).toEqual(expect.arrayContaining(['east', 'west']));
    expect(formatAuditTable(listed)).toMatch(/replicate\s+success\s+team\/app@[0-9a-f]{12} \[v1\]\s+src → (east|west)\s+event:aws\.ecr/);
    const ok = await runAuditCli(['verify', '--state-dir', stateDir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/audit log verified: \d+ records in \d+ chains/);

    // Prepare: change one stored record behind the log's back.
    const clients = createDynamoClients({ endpoint: stack.endpoints.dynamodb.endpoint, region: 'local' });
    try {
      await clients.client.send(
        new UpdateItemCommand({
          TableName: stack.endpoints.dynamodb.tables.audit!,
          Key: { pk: { S: 'repo#team/app' }, sk: { S: formatSeq(1) } },
          UpdateExpression: 'SET #b = :b',
          ExpressionAttributeNames: { '#b': 'bytes' },
          ExpressionAttributeValues: { ':b': { N: '1' } },
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } finally {
      clients.destroy();
    }

    // Act
    const broken = await runAuditCli(['verify', '--state-dir', stateDir]);

    // Assess
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('first broken link: chain repo#team/app, record 1: hash-mismatch');
  });

  it('without endpoints.json, `regman audit` says the running stack holds the database', async () => {
    // Prepare
    const file = join(stateDir, 'endpoints.json');
    renameSync(file, `${file}.away`);
    try {
      // Act
      const res = await runAuditCli(['verify', '--state-dir', stateDir]);

      // Assess
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(LOCKED_MESSAGE);
    } finally {
      renameSync(`${file}.away`, file);
    }
  });

  it('stops cleanly, and `regman audit verify` then reads the files directly', async () => {
    // Act
    await stack.stop();

    // Assess: registries and listener gone, endpoints.json removed, storage kept.
    expect(existsSync(join(stateDir, 'endpoints.json'))).toBe(false);
    await expect(fetch(`${stack.endpoints.registries.src}/v2/`)).rejects.toThrow();
    await expect(fetch(`${stack.endpoints.control}/health`)).rejects.toThrow();
    const res = await runAuditCli(['verify', '--state-dir', stateDir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('first broken link: chain repo#team/app, record 1');
  });
});

describe('`regman local` as a process', () => {
  it('starts, survives a restart with its images, and exits 0 on SIGTERM', async () => {
    // Prepare
    assertRegistryInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'regman-e2e-cli-'));
    const configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    const stateDir = join(dir, 'state');
    const env = { ...process.env };
    for (const v of ['REGMAN_E2E_SRC_URL', 'REGMAN_E2E_EAST_URL', 'REGMAN_E2E_WEST_URL']) delete env[v];
    const start = async (): Promise<{ endpoints: LocalEndpoints; stop(): Promise<{ code: number | null; stderr: string }> }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'regman.ts'), 'local', '--config', configFile, '--state-dir', stateDir, '--reconcile-every', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const endpoints = await waitFor('endpoints.json', async () => {
        if (child.exitCode !== null) throw new Error(`regman local exited ${child.exitCode}: ${stderr}`);
        const file = join(stateDir, 'endpoints.json');
        return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints) : undefined;
      }, 30_000);
      return {
        endpoints,
        async stop() {
          child.kill('SIGTERM');
          return { code: await exited, stderr };
        },
      };
    };
    try {
      const first = await start();
      const image = await pushImage({ url: first.endpoints.registries.src! }, 'team/kept', 'v1');
      const east = first.endpoints.registries.east!.replace(/^http:\/\//, '');
      await waitFor('replication to east', () => digestAt(`${east}/team/kept:v1`));

      // Act
      const stopped = await first.stop();

      // Assess: exit 0, everything released.
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stderr).toContain('stopped cleanly');
      expect(existsSync(join(stateDir, 'endpoints.json'))).toBe(false);
      await expect(fetch(`${first.endpoints.registries.src}/v2/`)).rejects.toThrow();

      // Act: start again on the same state folder.
      const second = await start();
      try {
        // Assess: the images are still there.
        const src = second.endpoints.registries.src!.replace(/^http:\/\//, '');
        expect(await skopeoDigest(`${src}/team/kept:v1`)).toBe(image.digest);
        expect(await skopeoDigest(`${second.endpoints.registries.east!.replace(/^http:\/\//, '')}/team/kept:v1`)).toBe(image.digest);
      } finally {
        expect((await second.stop()).code).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
