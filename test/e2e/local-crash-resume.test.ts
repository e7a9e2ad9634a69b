// Crash mid-copy: kill -9 the local stack (and its registries) while it copies a 300 MiB image, restart it, and the start-up
// reconcile finishes the copy uploading only the missing blobs, without HEADing those recorded as verified (`blobs#` records).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { DynamoBlobProgress } from '../../functions/replication/dynamo-blob-progress.ts';
import { startLocalDynamo } from '../../local/dynamodb.ts';
import type { LocalEndpoints } from '../../local/endpoints.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushLargeImage, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { assertRegistryInstalled, startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MiB = 1024 * 1024;
/** 300 MiB of incompressible data in six layers of different sizes, so commits come one after another. */
const LAYERS = [20, 30, 40, 50, 70, 90].map((n) => n * MiB);

const CONFIG = `version: 1
registries:
  src: { kind: oci, url: "\${REGMAN_E2E_CRASH_SRC_URL}", public: true }
  east: { kind: oci, url: "\${REGMAN_E2E_CRASH_EAST_URL}", public: true }
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    tags: { include: ["v*"] }
    targets: [{ registry: east }]
`;

interface Child {
  readonly process: ChildProcess;
  readonly endpoints: LocalEndpoints;
  readonly exited: Promise<void>;
}

/** Starts the stack in its own process group (so kill -9 of the group takes its registries too). */
async function startChild(options: object, stderr: string[]): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'local-stack-child.ts'), JSON.stringify(options)], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REGMAN_E2E_CRASH_SRC_URL: '', REGMAN_E2E_CRASH_EAST_URL: '' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const endpoints = await new Promise<LocalEndpoints>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^READY (.+)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as LocalEndpoints);
    });
    child.once('exit', (code) => reject(new Error(`the local stack exited (${code}) before it was ready:\n${stderr.join('').slice(-3000)}`)));
  });
  return { process: child, endpoints, exited };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('local stack: a copy killed mid-way resumes after the restart', () => {
  let dir: string;
  let east: RunningRegistry;
  let proxy: FaultProxy;
  let child: Child | undefined;
  const stderr: string[] = [];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-crash-'));
    writeFileSync(join(dir, 'local.yaml'), CONFIG);
    // The target runs outside the stack and keeps what arrived; the proxy counts what reaches it.
    east = await startRegistry();
    proxy = await startFaultProxy(east.url);
  });
  afterAll(async () => {
    if (child?.process.exitCode === null) {
      child.process.kill('SIGTERM');
      await child.exited;
    }
    await proxy?.stop();
    await east?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uploads only the blobs that were missing, and HEADs none of those recorded as verified', async () => {
    // Prepare: the stack copies src → east through the proxy, uploads paced so the kill lands mid-copy
    const options = {
      configFile: join(dir, 'local.yaml'),
      stateDir: join(dir, 'state'),
      externalRegistries: { east: proxy.url },
      reconcileEveryMinutes: 0,
      fanout: false,
      retryDelaysMs: [100, 100],
    };
    child = await startChild(options, stderr);
    proxy.inject({ ...Routes.blobUpload, times: Infinity, fault: { kind: 'slow', bytesPerSecond: 60 * MiB, side: 'request' } });
    const commits = (): number => proxy.requests.filter((r) => r.method === 'PUT' && Routes.blobUploadCommit.path.test(r.path) && r.status === 201).length;
    const image: PushedImage = await pushLargeImage({ url: child.endpoints.registries.src! }, 'team/big', 'v1', LAYERS, { concurrency: 3 });
    const blobs = [image.config.digest, ...image.layers.map((l) => l.digest)];

    // Act 1: kill -9 the whole process group once the config and two layers are committed
    await waitFor('three committed uploads at the target', () => commits() >= 3);
    await new Promise((r) => setTimeout(r, 100));
    process.kill(-child.process.pid!, 'SIGKILL');
    await child.exited;
    proxy.clearFaults();

    // What the target holds (asked directly, not through the proxy), and what the dead stack recorded
    const direct = new RawRegistryClient(east.url);
    const held = async (): Promise<Set<string>> => {
      const out = new Set<string>();
      for (const d of blobs) if ((await direct.request('HEAD', `/v2/team/big/blobs/${d}`)).status === 200) out.add(d);
      return out;
    };
    // An upload whose body had fully left the stack when it died still commits at the target, possibly seconds
    // later (the registry verifies and moves 90 MiB): wait for the proxy's last forwarded request to be answered,
    // so that `present` is final. (Polling until two reads agreed missed a commit landing after both reads.)
    await proxy.idle();
    const present = await held();
    expect(present.size).toBeGreaterThanOrEqual(3);
    expect(present.size).toBeLessThan(blobs.length);
    const db = await startLocalDynamo({ path: join(options.stateDir, 'dynamodb') });
    const clients = createDynamoClients({ endpoint: db.endpoint, region: 'local' });
    let recorded: Set<string>;
    try {
      recorded = await new DynamoBlobProgress({ docClient: clients.docClient, tableName: db.tables.replicationState }).verifiedBlobs({ target: 'east', repository: 'team/big', digest: image.digest });
    } finally {
      clients.destroy();
      await db.stop();
    }
    expect(recorded.size).toBeGreaterThan(0);
    for (const d of recorded) expect(present.has(d)).toBe(true);
    proxy.clearRequests();

    // Act 2: restart; the start-up reconcile finishes the copy before the stack reports ready
    child = await startChild(options, stderr);

    // Assess: the image is complete at the target, only the missing blobs went up, recorded blobs were not HEADed
    expect((await direct.request('HEAD', '/v2/team/big/manifests/v1', { headers: { accept: image.mediaType } })).headers['docker-content-digest']).toBe(image.digest);
    expect(commits()).toBe(blobs.length - present.size);
    const headed = proxy.requests.filter((r) => r.method === 'HEAD' && /\/blobs\/sha256:/.test(r.path)).map((r) => /sha256:[0-9a-f]{64}/.exec(r.path)![0]);
    expect(headed.filter((d) => recorded.has(d))).toEqual([]);
    expect(new Set(headed).size).toBeLessThanOrEqual(blobs.length - recorded.size);
    const audit = openDynamoAuditLog({ endpoint: child.endpoints.dynamodb.endpoint, tableName: child.endpoints.dynamodb.tables.audit!, region: 'local' });
    try {
      const records = await audit.log.query({ order: 'oldest-first' });
      expect(records.filter((r) => r.action === 'replicate.interrupted').map((r) => `${r.target} ${r.digest}`)).toEqual([`east ${image.digest}`]);
      const repaired = records.filter((r) => r.action === 'reconcile' && r.outcome === 'success');
      expect(repaired.map((r) => `${r.target} ${r.digest}`)).toEqual([`east ${image.digest}`]);
      expect(repaired[0]?.blobs).toEqual({ uploaded: blobs.length - present.size, mounted: 0, skipped: present.size });
    } finally {
      audit.close();
    }
  }, 120_000);
});
