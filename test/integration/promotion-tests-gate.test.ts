// The test gate inside the promotion workflow (real ASL, real registries, dynalite, a real HTTP hook): pass, fail, garbage, timeout.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPromotion } from '../../bin/commands/promotions.ts';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import type { PromotionDeps } from '../../functions/promotion/deps.ts';
import { createGateRunners } from '../../functions/promotion/gate-runners.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { createLocalPromotions, type LocalPromotions } from '../../local/promotions.ts';
import { devStagingConfig } from '../helpers/promotion-config.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

describe('promotion test gate (HTTP hook) through promotion.asl.json', () => {
  let dev: RunningRegistry;
  let stg: RunningRegistry;
  let db: DynaliteHandle;
  let hook: Server;
  let hookUrl: string;
  let dir: string;
  let deps: PromotionDeps & { store: DynamoPromotionStore };
  let auditStore: InMemoryAuditStore;
  let promotions: LocalPromotions;
  /** What the hook received, per tag. */
  const received = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    [dev, stg, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
    // The hook answers by tag: pass (with a link), fail, garbage, or not at all within the timeout.
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        received.set(String(body.tag), body);
        const answer = (status: number, text: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(text);
        if (body.tag === 'good') answer(200, JSON.stringify({ passed: true, url: 'http://ci.example/runs/1' }));
        else if (body.tag === 'bad') answer(200, JSON.stringify({ passed: false, url: 'http://ci.example/runs/2' }));
        else if (body.tag === 'garbage') answer(200, 'ok!');
        else setTimeout(() => answer(200, JSON.stringify({ passed: true })), 2_000);
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/run`;
    dir = mkdtempSync(join(tmpdir(), 'regman-tests-gate-'));
    const config = await devStagingConfig(dir, { dev: dev.url, stg: stg.url }, `{ tests: { http: '${hookUrl}', timeoutSeconds: 0.5 } }`);
    auditStore = new InMemoryAuditStore();
    const adapters = createAdapters(config, { ociOptions: { retry: { maxAttempts: 1 } } });
    deps = {
      config,
      adapters,
      audit: new AuditLog(auditStore),
      store: new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames }),
      gates: createGateRunners({ adapters }),
      copyOptions: { retries: 0, retryDelayMs: 1 },
    };
    promotions = createLocalPromotions({ deps: () => deps, retryIntervalMs: 0 });
    await Promise.all(['good', 'bad', 'garbage', 'slow'].map((tag, i) => pushImage(dev, 'app', tag, { layers: [64 + i] })));
  }, 120_000);

  afterAll(async () => {
    if (deps) closeAdapters(deps.adapters.values());
    hook?.close();
    await Promise.all([dev?.stop(), stg?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function promote(tag: string) {
    const { executionId } = await promotions.start({ repository: 'app', tag, from: 'dev', to: 'staging', requester: 'cli:dana' });
    const result = await promotions.wait(executionId);
    const record = (await deps.store.getExecution(executionId))!;
    const audit = (await new AuditLog(auditStore).query({ action: 'promote.tests' })).find((r) => r.details?.executionId === executionId);
    return { executionId, result, record, audit };
  }

  it('a passing hook: the digest is promoted; the hook got the image and edge; the result and link are recorded, audited and shown', async () => {
    const { result, record, audit } = await promote('good');
    expect(result.status).toBe('SUCCEEDED');
    expect(received.get('good')).toEqual({ digest: record.digest, repository: 'app', tag: 'good', from: 'dev', to: 'staging' });
    expect(record.gates).toEqual([expect.objectContaining({ gate: 'tests', passed: true, summary: `HTTP hook ${hookUrl} passed (http://ci.example/runs/1)`, url: 'http://ci.example/runs/1' })]);
    expect(audit).toMatchObject({ outcome: 'success', digest: record.digest, details: { url: 'http://ci.example/runs/1' } });
    expect(formatPromotion(record)).toContain(`gate       tests: passed  HTTP hook ${hookUrl} passed (http://ci.example/runs/1)`);
    expect(await skopeoDigest(`${stg.host}/app:good`)).toBe(record.digest);
  });

  it.each([
    ['bad', (d: string) => `tests of app@${d} failed: HTTP hook ${hookUrl} failed (http://ci.example/runs/2)`],
    ['garbage', (d: string) => `test gate for app@${d} failed: HTTP hook ${hookUrl} answered HTTP 200 with a body that is not JSON: "ok!"; expected {"passed": true|false, "url"?: "…"}`],
    ['slow', (d: string) => `test gate for app@${d} failed: HTTP hook ${hookUrl} did not answer within 0.5s (gates.tests.timeoutSeconds)`],
  ])('a %s hook fails the promotion with a clear reason, audited, not quarantined, and no tag in staging', async (tag, reason) => {
    const { result, record, audit } = await promote(tag);
    expect(result.status).toBe('FAILED');
    expect(record.status).toBe('FAILED');
    expect(record.error).toEqual({ code: 'GATE_FAILED', message: reason(record.digest!) });
    expect(audit).toMatchObject({ outcome: 'failure', errorCode: 'GATE_FAILED', errorMessage: reason(record.digest!) });
    expect(formatPromotion(record)).toContain(`gate       tests: FAILED  ${reason(record.digest!)}`);
    // A failed test is not a property of the image: no quarantine, and nothing written in the target.
    expect(await deps.store.getQuarantine(record.digest!)).toBeUndefined();
    expect(record.tagsWritten).toEqual([]);
    await expect(skopeoDigest(`${stg.host}/app:${tag}`)).rejects.toThrow();
  });
});
