// The approvals and console entries bundled by esbuild as the stack deploys them (ESM, config inside), and each bundle answers an HTTP API event.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { Approvals } from '../../lib/constructs/approvals.ts';
import { DEPS_LOCK_FILE, HANDLER_ENTRIES } from '../../lib/registry-manager-stack.ts';
import { BUNDLED_CONFIG_FILE } from '../../lib/config-bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'regman-approvals-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('approvals bundles', () => {
  it('bundle both entries, and each loads and answers an HTTP API event', async () => {
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ version: 1, registries: {}, environments: {} }));
    const app = new App({ outdir: join(dir, 'out') });
    const stack = new Stack(app, 'Bundles');
    new Approvals(stack, 'Approvals', {
      config: { promotion: [] },
      approvalsTable: dynamodb.Table.fromTableName(stack, 'A', 'approvals'),
      auditTable: dynamodb.Table.fromTableName(stack, 'B', 'audit'),
      configFile,
      entries: { approvals: HANDLER_ENTRIES.approvalsHttp, console: HANDLER_ENTRIES.console },
      depsLockFilePath: DEPS_LOCK_FILE,
    });
    const bundles = readdirSync(app.outdir).filter((d) => d.startsWith('asset.')).map((d) => join(app.outdir, d)).filter((d) => existsSync(join(d, 'index.mjs')));
    expect(bundles).toHaveLength(2);
    const statuses: number[] = [];
    for (const bundle of bundles) {
      expect(existsSync(join(bundle, BUNDLED_CONFIG_FILE))).toBe(true);
      const { handler } = (await import(pathToFileURL(join(bundle, 'index.mjs')).href)) as { handler: (event: unknown) => Promise<{ statusCode: number; body: string }> };
      const out = await handler({ version: '2.0', rawPath: '/approvals', requestContext: { http: { method: 'GET' } }, headers: {} });
      // Without its environment (APPROVALS_TABLE, …) each answers the unavailable page: the bundle loaded as ESM and parsed the event.
      statuses.push(out.statusCode);
      expect(out.body).toContain('Temporarily unavailable');
    }
    expect(statuses).toEqual([503, 503]);
  }, 180_000);
});
