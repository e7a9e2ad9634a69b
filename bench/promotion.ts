// Benchmark: the promotion workflow's own time (statemachines/promotion.asl.json on the local runner) for an image already in the target registries, median of 5, and the blobs its sync uploaded (zero expected).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decideApproval, MinimalApprovalRequester } from '../functions/approvals/minimal-requester.ts';
import { AuditLog, InMemoryAuditStore } from '../functions/audit/index.ts';
import { loadConfig } from '../functions/config/index.ts';
import type { PromotionDeps } from '../functions/promotion/deps.ts';
import { createGateRunners } from '../functions/promotion/gate-runners.ts';
import { DynamoPromotionStore } from '../functions/promotion/store.ts';
import { closeAdapters, createAdapters } from '../functions/registries/factory.ts';
import { createLocalPromotions } from '../local/promotions.ts';
import { startDynalite } from '../test/helpers/dynalite.ts';
import { Routes, startFaultProxy } from '../test/helpers/fault-proxy.ts';
import { pushImage, pushReferrer } from '../test/helpers/images.ts';
import { startRegistry } from '../test/helpers/registry.ts';

/** A SARIF 2.1 report without findings, attached as CI attaches them: the scan gate passes on it. */
const CLEAN_SARIF = Buffer.from(JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'Trivy', rules: [] } }, results: [] }] }));
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * dev → staging (two registries behind counting proxies), the local config's first edge: scan gate
 * on a referrer report and one approver. The approval is given the moment it is asked for, and the
 * time between the request and the decision is taken out: what remains is the workflow's own time
 * (Validate, ScanGate, RequestApproval, ApplyTags, Sync, Record).
 */
export async function promotionBenchMarkdown(runs: number, log: (s: string) => void = () => {}): Promise<string> {
  const [dev, stgA, stgB, db] = await Promise.all([startRegistry(), startRegistry(), startRegistry(), startDynalite()]);
  const [proxyA, proxyB] = await Promise.all([startFaultProxy(stgA.url), startFaultProxy(stgB.url)]);
  const dir = mkdtempSync(join(tmpdir(), 'regman-bench-promotion-'));
  let deps: PromotionDeps | undefined;
  try {
    const file = join(dir, 'registries.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'registries:',
        `  dev: { kind: oci, url: '${dev.url}', public: true }`,
        `  stg-a: { kind: oci, url: '${proxyA.url}', public: true }`,
        `  stg-b: { kind: oci, url: '${proxyB.url}', public: true }`,
        'environments:',
        '  dev: { registries: [dev] }',
        '  staging: { registries: [stg-a, stg-b] }',
        'promotion:',
        '  - { from: dev, to: staging, gates: { scan: { source: referrer, maxFindings: { critical: 0, high: 2 } }, approval: { approvers: [alice], required: 1 } } }',
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file, { env: {} });
    const store = new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames });
    const adapters = createAdapters(config);
    deps = { config, adapters, audit: new AuditLog(new InMemoryAuditStore()), store, gates: createGateRunners({ adapters }), approvals: new MinimalApprovalRequester({ store, edges: config.promotion }) };
    const d = deps;
    const promotions = createLocalPromotions({ deps: () => d, retryIntervalMs: 0 });
    // 3 layers of 4 MiB (real bytes to move if the sync did not skip them), and the scan report.
    const image = await pushImage(dev, 'app', 'v1', { layers: [4 << 20, 4 << 20, 4 << 20] });
    await pushReferrer(dev, 'app', image.descriptor, { artifactType: 'application/sarif+json', data: CLEAN_SARIF });

    const promote = async (): Promise<{ ms: number; waitedMs: number; status: string }> => {
      const t0 = performance.now();
      const { executionId } = await promotions.start({ repository: 'app', tag: 'v1', from: 'dev', to: 'staging', requester: 'cli:bench' });
      let asked = 0;
      for (let i = 0; i < 2000 && !(await store.getApproval(executionId)); i++) await new Promise((r) => setTimeout(r, 2));
      asked = performance.now();
      await decideApproval(store, promotions.completer, { executionId, identity: 'alice', approve: true });
      const decided = performance.now();
      const result = await promotions.wait(executionId);
      return { ms: performance.now() - t0 - (decided - asked), waitedMs: decided - asked, status: result.status };
    };

    // The first promotion copies the image into both staging registries; the measured ones find it there.
    const first = await promote();
    if (first.status !== 'SUCCEEDED') throw new Error(`warm-up promotion ended ${first.status}`);
    const firstUploads = proxyA.count(Routes.blobUploadStart) + proxyB.count(Routes.blobUploadStart);
    proxyA.clearRequests();
    proxyB.clearRequests();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await promote();
      if (r.status !== 'SUCCEEDED') throw new Error(`promotion ${i + 1} ended ${r.status}`);
      times.push(r.ms);
      log(`promotion: run ${i + 1} ${r.ms.toFixed(0)} ms (approval decided ${r.waitedMs.toFixed(0)} ms after it was asked, not counted)`);
    }
    const count = (route: Parameters<typeof proxyA.count>[0]): number => proxyA.count(route) + proxyB.count(route);
    const uploads = count(Routes.blobUpload);
    const perRun = (n: number): string => (n / runs).toFixed(1);
    return [
      `Measured ${new Date().toISOString()}. \`statemachines/promotion.asl.json\` on the local runner (aws-local-stepfunctions, waits 0), dev → staging with the local config's gates:`,
      'a scan gate reading a SARIF report attached as a referrer, and one approver; staging is two registries (distribution, each behind a counting proxy).',
      `The image (3 layers of 4 MiB, plus its scan report) was promoted once beforehand, which copied it into both (${firstUploads} blob uploads started);`,
      `then ${runs} promotions of the same digest. The approval is decided the moment it is asked for, and that interval is subtracted: the figure is the workflow's own time.`,
      '',
      '| promotions | median ms | min ms | max ms | blob uploads (POST/PATCH/PUT) | blob HEADs per run | manifest PUTs per run |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      `| ${runs} | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} | ${Math.max(...times).toFixed(0)} | ${uploads} ${uploads === 0 ? '✓' : '✗'} | ${perRun(count(Routes.blobHead))} | ${perRun(count(Routes.manifestPut))} |`,
      '',
      `Blob uploads: ${uploads}. The sync step finds every blob in place (HEAD), and ApplyTags writes tags as manifest PUTs of the raw bytes (only tags that`,
      'do not already name the digest: the environment tag carries the time to the second), so no byte of a layer moves, as issue 9 asks.',
    ].join('\n');
  } finally {
    if (deps) closeAdapters(deps.adapters.values());
    await Promise.all([dev.stop(), stgA.stop(), stgB.stop(), proxyA.stop(), proxyB.stop(), db.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`## Promotion of an image already in the target registries\n\n${await promotionBenchMarkdown(5, (s) => process.stderr.write(`${s}\n`))}\n`);
}
