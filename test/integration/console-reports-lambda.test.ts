// The console Lambda's report pages on AWS terms: HTTP API 2.0 events for /reports/*, the audit log on dynalite, a real registry as the inventory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVALS_ENV } from '../../functions/approvals/env-names.ts';
import { AuditLog } from '../../functions/audit/audit-log.ts';
import { DynamoAuditStore } from '../../functions/audit/dynamo-store.ts';
import { loadConfig } from '../../functions/config/index.ts';
import { readEnvironment } from '../../functions/env.ts';
import { createConsoleHandler } from '../../functions/handlers/console.ts';
import { REPORT_DEADLINE_ENV } from '../../functions/handlers/console-reports-deps.ts';
import type { HttpApiEventV2 } from '../../functions/handlers/http-api.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { loadRegistryInventory } from '../../functions/reports/costs/inventory.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const DIGEST = `sha256:${'a1'.repeat(32)}`;
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();

/** A GET as API Gateway's HTTP API (payload 2.0) sends it to the console function. */
function get(path: string, query = ''): HttpApiEventV2 {
  return {
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'x-forwarded-proto': 'https' },
    requestContext: { http: { method: 'GET', path }, stage: '$default', requestId: 'r1' },
    isBase64Encoded: false,
  };
}

describe('console Lambda report pages (HTTP API 2.0, dynalite, a real registry)', () => {
  let db: DynaliteHandle;
  let registry: RunningRegistry;
  let dir: string;
  let vars: Record<string, string>;

  beforeAll(async () => {
    [db, registry] = await Promise.all([startDynalite(), startRegistry({})]);
    const shared = randomBytes(30_000);
    await pushImage(registry, 'team/app', 'v1', { layers: [shared, 4_000] });
    await pushImage(registry, 'team/api', 'v1', { layers: [shared, 2_000] });
    dir = mkdtempSync(join(tmpdir(), 'regman-console-reports-'));
    const config = {
      version: 1,
      registries: { dev: { kind: 'oci', url: registry.url, public: true }, prod: { kind: 'oci', url: registry.url.replace('127.0.0.1', 'localhost'), public: true } },
      environments: { dev: { registries: ['dev'] }, prod: { registries: ['prod'] } },
      promotion: [{ from: 'dev', to: 'prod', gates: { approval: { approvers: ['bob@example.com'], required: 1 } } }],
    };
    writeFileSync(join(dir, 'regman.config.json'), JSON.stringify(config));
    const log = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
    const base = { correlationId: 'exec-1', repository: 'team/app', digest: DIGEST, tags: ['v1'] };
    const d = { environment: 'prod', from: 'dev', executionId: 'exec-1' };
    await log.append({ ...base, actor: 'cli:alice', action: 'promote.request', outcome: 'success', time: at(0), details: d });
    await log.append({ ...base, actor: 'bob@example.com', action: 'promote.approval', outcome: 'success', time: at(5), details: { ...d, comment: 'LGTM CHG-7' } });
    await log.append({ ...base, actor: 'system:promotion', action: 'promote.record', outcome: 'success', time: at(6), details: d });
    vars = {
      [APPROVALS_ENV.table]: db.tableNames.approvals,
      AUDIT_TABLE: db.tableNames.audit,
      REGMAN_DYNAMODB_ENDPOINT: db.endpoint,
      REGMAN_CONFIG_PATH: join(dir, 'regman.config.json'),
      AWS_REGION: 'eu-west-1',
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([db?.stop(), registry?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves /reports/compliance from the audit table and /reports/costs from the registry inventory', async () => {
    // Prepare
    const handler = createConsoleHandler(readEnvironment(vars), dir);

    // Act
    const compliance = await handler(get('/reports/compliance', `since=${encodeURIComponent(at(-1))}&until=${encodeURIComponent(at(60))}`));
    const costs = await handler(get('/reports/costs', 'registry=dev'));

    // Assess
    expect(compliance.statusCode).toBe(200);
    expect(compliance.body).toContain('exec-1');
    expect(compliance.body).toContain('bob@example.com');
    expect(compliance.body).toContain('LGTM CHG-7');
    expect(costs.statusCode).toBe(200);
    expect(costs.body).toContain('team/app');
    expect(costs.body).toContain('team/api');
  });

  it('refuses lineage of a host that is no configured registry, without fetching it', async () => {
    // Prepare
    const handler = createConsoleHandler(readEnvironment(vars), dir);

    // Act
    const foreign = await handler(get('/reports/lineage', `image=${encodeURIComponent('evil.example:5000/team/app:v1')}`));

    // Assess
    expect(foreign.statusCode).toBe(400);
    expect(foreign.body).toContain('evil.example:5000 is not a registry of this stack');
  });

  it('says to run the CLI, not 404, when a report does not fit the deadline', async () => {
    // Prepare
    const handler = createConsoleHandler(readEnvironment({ ...vars, [REPORT_DEADLINE_ENV]: '0' }), dir);

    // Act
    const costs = await handler(get('/reports/costs'));

    // Assess
    expect(costs.statusCode).toBe(503);
    expect(costs.body).toContain(`regman report costs --table ${db.tableNames.audit} --region eu-west-1`);
  });

  it('serves /reports/usage and /reports/lineage of a configured registry', async () => {
    // Prepare
    const handler = createConsoleHandler(readEnvironment(vars), dir);
    const host = new URL(registry.url).host;

    // Act
    const usage = await handler(get('/reports/usage', `since=${encodeURIComponent(at(-1))}&until=${encodeURIComponent(at(60))}&registry=dev`));
    const lineage = await handler(get('/reports/lineage', `image=${encodeURIComponent(`${host}/team/app:v1`)}`));

    // Assess
    expect(usage.statusCode).toBe(200);
    expect(usage.body).toContain('team/app');
    expect(lineage.statusCode).toBe(200);
    expect(lineage.body).toContain(`${host}/team/app:v1`);
    expect(lineage.body).toMatch(/sha256:[0-9a-f]{64}/);
  });

  it('is unavailable (503, the reason in the log) with a deadline that is not a number of milliseconds', async () => {
    // Prepare
    const lines: string[] = [];
    const handler = createConsoleHandler(readEnvironment({ ...vars, [REPORT_DEADLINE_ENV]: 'soon' }), dir, { log: (l) => lines.push(l) });

    // Act
    const page = await handler(get('/reports/costs'));

    // Assess
    expect(page.statusCode).toBe(503);
    expect(lines.join('\n')).toContain(`${REPORT_DEADLINE_ENV} must be a non-negative integer of milliseconds, got soon`);
  });

  it('stops reading an inventory once the deadline\'s signal is aborted', async () => {
    // Prepare
    const adapters = createAdapters(await loadConfig(join(dir, 'regman.config.json'), { env: {} }));
    const aborted = new AbortController();
    aborted.abort();
    try {
      // Act / Assess
      expect((await loadRegistryInventory(adapters.get('dev')!, { signal: new AbortController().signal })).map((r) => r.repository)).toEqual(['team/api', 'team/app']);
      await expect(loadRegistryInventory(adapters.get('dev')!, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      closeAdapters(adapters.values());
    }
  });

  it('answers 404 (not configured) without AUDIT_TABLE', async () => {
    // Prepare
    const { AUDIT_TABLE: _, ...rest } = vars;
    const handler = createConsoleHandler(readEnvironment(rest), dir);

    // Act
    const page = await handler(get('/reports/usage'));

    // Assess
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('Reports are not configured');
  });
});
