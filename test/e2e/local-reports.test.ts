// End to end on the local stack: `regman report costs|usage` and `regman lineage` as CLI processes against --state-dir, and the console's report pages in Chromium.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import type { CostReport } from '../../functions/reports/costs/report.ts';
import type { Lineage } from '../../functions/reports/lineage/model.ts';
import type { UsageReport } from '../../functions/reports/usage/model.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { FixtureMediaType, pushCosignSignature, pushImage, pushSbomReferrer, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient, sha256Digest } from '../helpers/raw-push.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { screenshotPath } from '../helpers/screenshots.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

const CONFIG = `version: 1
registries:
  src:
    kind: oci
    url: \${REGMAN_E2E_REP_SRC_URL}
    public: true
    storagePricePerGbMonth: 1000000
  east:
    kind: oci
    url: \${REGMAN_E2E_REP_EAST_URL}
    public: true
  west:
    kind: oci
    url: \${REGMAN_E2E_REP_WEST_URL}
    public: true
replication:
  - name: mirror
    source: src
    repositories: ["team/**"]
    tags:
      include: ["/^v\\\\d+(\\\\.\\\\d+)*$/"]
    targets:
      - registry: east
      - registry: west
        repositoryPrefix: mirror
    referrers: true
`;

const REV = '89abcdef0123456789abcdef0123456789abcdef';
const ANNOTATIONS = {
  'org.opencontainers.image.source': 'https://github.com/team/app',
  'org.opencontainers.image.revision': REV,
  'org.opencontainers.image.version': '1.0.0',
  'org.opencontainers.image.base.name': 'docker.io/library/alpine:3.20',
  'org.opencontainers.image.base.digest': `sha256:${'a'.repeat(64)}`,
};

/**
 * The CLI as a user runs it in another terminal: without the URL variables the stack set in this
 * process, so the config's registries are found through --state-dir's endpoints.json alone.
 */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGMAN_E2E_REP_')));
  return new Promise((resolve) => {
    execFile(TSX, [join(ROOT, 'test', 'e2e', 'report-cli.ts'), ...args], { cwd: ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A BuildKit-shaped index: one platform image and its attestation manifest (SLSA v0.2 statement layer), tagged v1. */
async function pushBuildkitIndex(reg: { url: string }, repo: string): Promise<{ child: PushedImage; attestation: string; index: string }> {
  const client = new RawRegistryClient(reg);
  const child = await pushImage(reg, repo, undefined, { layers: [700] });
  const statement = {
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: `pkg:docker/${repo}@v1?platform=linux%2Famd64`, digest: { sha256: child.digest.slice(7) } }],
    predicate: {
      builder: { id: 'https://github.com/docker/build-push-action' },
      buildType: 'https://mobyproject.org/buildkit@v1',
      materials: [{ uri: 'pkg:docker/alpine@3.20?platform=linux%2Famd64', digest: { sha256: 'b'.repeat(64) } }],
      invocation: { configSource: { uri: 'https://github.com/team/built.git#refs/tags/v1', entryPoint: 'Dockerfile' } },
      metadata: { 'https://mobyproject.org/buildkit@v1#metadata': { vcs: { source: 'https://github.com/team/built.git', revision: REV } } },
    },
  };
  const layer = await client.pushBlob(repo, Buffer.from(JSON.stringify(statement)));
  const config = await client.pushBlob(repo, Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const att = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: FixtureMediaType.OciManifest,
    config: { mediaType: FixtureMediaType.OciConfig, ...config },
    layers: [{ mediaType: 'application/vnd.in-toto+json', ...layer, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
  }, null, 2));
  const attestation = await client.putManifest(repo, sha256Digest(att), att, FixtureMediaType.OciManifest);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: FixtureMediaType.OciIndex,
    manifests: [
      child.descriptor,
      { mediaType: FixtureMediaType.OciManifest, digest: attestation, size: att.length, annotations: { 'vnd.docker.reference.digest': child.digest, 'vnd.docker.reference.type': 'attestation-manifest' }, platform: { architecture: 'unknown', os: 'unknown' } },
    ],
  }, null, 2));
  return { child, attestation, index: await client.putManifest(repo, 'v1', index, FixtureMediaType.OciIndex) };
}

describe('reports on the local stack (e2e)', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  let stack: LocalStack;
  let browser: Browser;
  let hosts: Record<string, string>;
  let shared: Buffer;
  let app: PushedImage;
  let api: PushedImage;
  let built: Awaited<ReturnType<typeof pushBuildkitIndex>>;
  const logs: string[] = [];
  const common = (): string[] => ['--state-dir', stateDir, '--config', configFile];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-reports-'));
    stateDir = join(dir, 'state');
    configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    for (const v of ['REGMAN_E2E_REP_SRC_URL', 'REGMAN_E2E_REP_EAST_URL', 'REGMAN_E2E_REP_WEST_URL']) delete process.env[v];
    [stack, browser] = await Promise.all([startLocalStack({ configFile, stateDir, log: (l) => logs.push(l), retryDelaysMs: [200], copyOptions: { retries: 0 } }), launchChromium()]);
    hosts = Object.fromEntries(Object.entries(stack.endpoints.registries).map(([n, u]) => [n, u.replace(/^http:\/\//, '')]));
    const src = { url: stack.endpoints.registries.src! };
    shared = Buffer.alloc(30_000, 7);
    // Prepare: two repositories sharing a layer, signed and with an SBOM; a BuildKit index with provenance.
    app = await pushImage(src, 'team/app', undefined, { layers: [shared, 9_000], annotations: ANNOTATIONS });
    await pushCosignSignature(src, 'team/app', app.digest);
    await pushSbomReferrer(src, 'team/app', app.descriptor);
    await new RawRegistryClient(src).putManifest('team/app', 'v1', app.raw, app.mediaType);
    api = await pushImage(src, 'team/api', 'v1', { layers: [shared, 4_000] });
    built = await pushBuildkitIndex(src, 'team/built');
    await stack.idle();
  }, 120_000);

  beforeEach((ctx) => {
    const from = logs.length;
    ctx.onTestFailed(() => console.error(`local stack log during the test:\n${logs.slice(from).join('\n')}`));
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), browser?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('report costs and report usage read the running stack through --state-dir', async () => {
    // Act
    const [costs, usage, bad] = await Promise.all([
      runCli(['report', 'costs', ...common(), '--format', 'json']),
      // No --config: the stack's own config (endpoints.json names it).
      runCli(['report', 'usage', '--state-dir', stateDir, '--format', 'json', '--since', '1d']),
      runCli(['report', 'costs', ...common(), '--registry', 'nope']),
    ]);

    // Assess: storage from the real registries, the shared layer counted once.
    expect(costs.code, costs.stderr).toBe(0);
    const report = JSON.parse(costs.stdout) as CostReport;
    const src = report.registries.find((r) => r.registry === 'src')!;
    const sum = (img: PushedImage): number => img.blobs.reduce((n, b) => n + b.size, 0);
    const appCost = src.repositories.find((r) => r.repository === 'team/app')!;
    const apiCost = src.repositories.find((r) => r.repository === 'team/api')!;
    expect(apiCost.bytes).toBe(sum(api));
    expect(apiCost.uniqueBytes).toBe(sum(api) - shared.length);
    expect(appCost.uniqueBytes).toBe(appCost.bytes - shared.length);
    // Priced to the cent from the config's override.
    expect(src.storagePerMonth).toBe(Math.round((src.storedBytes / 2 ** 30) * 1_000_000 * 100) / 100);
    // Transfer per pair: exactly the bytes the replicate records say moved.
    const opened = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    const replicated = await opened.log.query({ action: 'replicate' }).finally(() => opened.close());
    for (const target of ['east', 'west']) {
      const moved = replicated.filter((r) => r.target === target && r.outcome === 'success').reduce((n, r) => n + (r.bytes ?? 0), 0);
      expect(moved).toBeGreaterThan(0);
      expect(report.transfer.pairs).toContainEqual(expect.objectContaining({ source: 'src', target, relation: 'sameRegion', bytes: moved }));
    }
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/nope/);
    expect(bad.stderr).toMatch(/src/);

    // Usage: one push per image, copies and lag per target, no dead letters.
    expect(usage.code, usage.stderr).toBe(0);
    const u = JSON.parse(usage.stdout) as UsageReport;
    expect(u.pushes.find((p) => p.repository === 'team/app')).toMatchObject({ registry: 'src', pushes: 1, images: [{ digest: app.digest, tags: ['v1'], pushes: 1 }] });
    for (const target of ['east', 'west']) {
      const t = u.replication.find((x) => x.target === target)!;
      expect(t.copies).toBe(3);
      expect(t.failures).toBe(0);
      expect(t.lag.count).toBe(3);
      expect(t.lag.p50Ms).toBeGreaterThanOrEqual(0);
      expect(t.lag.p95Ms).toBeGreaterThanOrEqual(t.lag.p50Ms!);
    }
    expect(u.deadLetters).toEqual({ backlog: 0, oldest: null, byError: {} });
    const appStorage = u.storage.find((s) => s.registry === 'src' && s.repository === 'team/app')!;
    expect(appStorage.series.at(-1)?.bytes).toBe(appStorage.bytes);
    expect(u.pullsUnknown).toEqual(['src', 'east', 'west']);
  }, 90_000);

  it('lineage tells where an image came from and where it went: annotations, referrers, replications, a BuildKit index and its child', async () => {
    // Act
    const [source, index, child] = await Promise.all([
      runCli(['lineage', `${hosts.src}/team/app:v1`, ...common(), '--json']),
      runCli(['lineage', `${hosts.src}/team/built:v1`, ...common(), '--json']),
      runCli(['lineage', `${hosts.src}/team/built@${built.child.digest}`, ...common()]),
    ]);

    // Assess: the source image's annotations, its signature and SBOM referrers, and both replications.
    expect(source.code, source.stderr).toBe(0);
    const l = JSON.parse(source.stdout) as Lineage;
    expect(l.image).toMatchObject({ registry: 'src', repository: 'team/app', digest: app.digest, kind: 'image' });
    expect(l.tags).toEqual(['v1']);
    expect(l.origin).toMatchObject({ source: 'https://github.com/team/app', revision: REV, version: '1.0.0' });
    expect(l.base).toEqual({ name: 'docker.io/library/alpine:3.20', digest: `sha256:${'a'.repeat(64)}` });
    expect(l.signatures.map((s) => s.via)).toEqual(['cosign-tag']);
    expect(l.sboms.map((s) => [s.via, s.format])).toEqual([['referrer', 'spdx']]);
    expect(l.copies.filter((c) => c.action === 'replicate' && c.outcome === 'success').map((c) => [c.target, c.targetRepository]).sort()).toEqual([['east', 'team/app'], ['west', 'mirror/team/app']]);
    // The BuildKit index: the platform child with its attestation, and the provenance read from the statement.
    expect(index.code, index.stderr).toBe(0);
    const i = JSON.parse(index.stdout) as Lineage;
    expect(i.image).toMatchObject({ kind: 'index', digest: built.index });
    expect(i.platforms).toEqual([{ digest: built.child.digest, platform: 'linux/amd64', attestation: built.attestation }]);
    expect(i.provenance).toEqual([expect.objectContaining({ via: 'buildkit-index', builder: 'https://github.com/docker/build-push-action', trigger: 'https://github.com/team/built.git#refs/tags/v1 (Dockerfile)', commit: { source: 'https://github.com/team/built.git', revision: REV } })]);
    // The child alone: its index, and the attestation found through it.
    expect(child.code, child.stderr).toBe(0);
    expect(child.stdout).toContain(`in index   v1 (${built.index.slice(7, 19)})`);
    expect(child.stdout).toContain(`commit   https://github.com/team/built.git ${REV}`);
  }, 90_000);

  it('lineage --format html --out writes the console\'s self-contained page, and it renders in Chromium', async () => {
    // Prepare
    const file = join(dir, 'lineage.html');
    // Act
    const [written, conflict] = await Promise.all([
      runCli(['lineage', `${hosts.src}/team/app:v1`, ...common(), '--format', 'html', '--out', file]),
      runCli(['lineage', `${hosts.src}/team/app:v1`, ...common(), '--json', '--format', 'html']),
    ]);

    // Assess: one HTML document, nothing fetched from elsewhere, the digest and both replication targets in it.
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe('');
    expect(written.stderr).toContain(`wrote ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html.match(/<html[\s>]/g)).toHaveLength(1);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<(?:script|link)\b/i);
    expect(html).toContain(app.digest);
    expect(html).toContain('mirror/team/app');
    // --json is --format json: asking for both json and html is a usage error.
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('--json and --format html');

    // Assess: the same page the console serves, rendered from the file.
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    try {
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator('p.meta').first().innerText()).toContain(`${app.digest} · image in src/team/app`);
      expect(await page.locator('#origin').innerText()).toContain('https://github.com/team/app');
      const went = await page.locator('#went tbody').first().innerText();
      expect(went).toMatch(/replicate\s+src\s+east\/team\/app\s+success/);
      expect(went).toMatch(/replicate\s+src\s+west\/mirror\/team\/app\s+success/);
      expect(await page.locator('#went svg').count()).toBe(1);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('the console serves the compliance, cost, usage and lineage pages with the stack\'s data', async () => {
    // Prepare
    const base = stack.endpoints.console!;
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    try {
      // Act / Assess: compliance, with the chain verified over the stack's records.
      let res = await page.goto(`${base}/reports/compliance?since=1d`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('#chain').innerText()).toMatch(/Audit chain verified: \d+ records/);
      expect(await page.locator('#actions svg rect').count()).toBeGreaterThan(0);

      res = await page.goto(`${base}/reports/costs`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('#repositories tbody').innerText()).toContain('team/api');
      expect(await page.locator('#transfer tbody tr').count()).toBe(2);

      res = await page.goto(`${base}/reports/usage?since=1d`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('#storage svg polyline').count()).toBeGreaterThan(0);
      const replication = await page.locator('#replication tbody').innerText();
      expect(replication).toMatch(/east\s+3/);
      expect(replication).toMatch(/west\s+3/);
      expect(await page.locator('#dlq').innerText()).toContain('No dead letters waiting');
      await page.screenshot({ path: screenshotPath('report-usage.png'), fullPage: true });

      // The lineage form, then an image looked up through it (a GET: nothing changes).
      res = await page.goto(`${base}/reports/lineage`);
      expect(res?.status()).toBe(200);
      await page.fill('input[name=image]', `${hosts.src}/team/app:v1`);
      await Promise.all([page.waitForURL(/image=/), page.click('button[type=submit]')]);
      expect(await page.locator('#origin').innerText()).toContain('https://github.com/team/app');
      expect(await page.locator('#went tbody').first().innerText()).toContain('mirror/team/app');
      await page.screenshot({ path: screenshotPath('report-lineage.png'), fullPage: true });

      // The same digest on a target under a prefix: found in the log under the source repository.
      res = await page.goto(`${base}/reports/lineage?image=${encodeURIComponent(`${hosts.west}/mirror/team/app:v1`)}`);
      expect(res?.status()).toBe(200);
      expect(await page.locator('p.meta').first().innerText()).toContain(`${app.digest} · image in west/mirror/team/app`);
      expect(await page.locator('#went tbody').first().innerText()).toContain('west');

      // A host that is not the stack's is refused, never fetched; an empty period is a 404 saying so.
      res = await page.goto(`${base}/reports/lineage?image=${encodeURIComponent('registry.example.com/x:1')}`);
      expect(res?.status()).toBe(400);
      expect(await page.locator('#error').innerText()).toContain('is not a registry of this stack');
      res = await page.goto(`${base}/reports/compliance?since=2001-01-01&until=2001-01-02`);
      expect(res?.status()).toBe(404);
      expect(await page.locator('#error').innerText()).not.toBe('');
    } finally {
      await page.close();
    }
  }, 90_000);
});
