// The cost report over real registries: an inventory with a shared layer counted once, transfer from audit records, the HTML page in Chromium.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../functions/audit/types.ts';
import { loadConfig } from '../../functions/config/index.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { loadRegistryInventory } from '../../functions/reports/costs/inventory.ts';
import { GB, priceSheetFor } from '../../functions/reports/costs/prices.ts';
import { buildCostReport } from '../../functions/reports/costs/report.ts';
import { renderCostsPage } from '../../functions/web/reports/costs-page.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { screenshotPath } from '../helpers/screenshots.ts';

describe('cost report on real registries', () => {
  let a: RunningRegistry;
  let b: RunningRegistry;
  let browser: Browser;
  let dir: string;
  const shared = randomBytes(40_000);
  const own = randomBytes(10_000);

  beforeAll(async () => {
    [a, b, browser] = await Promise.all([startRegistry({}), startRegistry({}), launchChromium()]);
    await pushImage(a, 'team/app', 'v1', { layers: [shared, own] });
    await pushImage(a, 'team/api', 'v1', { layers: [shared, 5_000] });
    await pushImage(b, 'mirror/app', 'v1', { layers: [shared, own] });
    dir = mkdtempSync(join(tmpdir(), 'regman-costs-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), browser?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the shared layer once per registry, prices transfer from the audit records, and renders the page', async () => {
    // Prepare
    const file = join(dir, 'registries.yaml');
    writeFileSync(file, ['version: 1', 'registries:', '  a:', '    kind: oci', `    url: ${a.url}`, '    public: true', '  b:', '    kind: oci', `    url: ${b.url}`, '    public: true', ''].join('\n'));
    const config = await loadConfig(file, { env: {} });
    const adapters = createAdapters(config);
    const price = priceSheetFor('a', 'oci', { storagePerGbMonth: 1000 });
    const records: StoredAuditRecord[] = [
      { actor: 'cli:t', action: 'sync', outcome: 'success', correlationId: 'c', time: '2026-01-01T00:00:00.000Z', source: 'a', target: 'b', bytes: GB, repository: 'team/app', partition: 'repo#team/app', seq: 1, prevHash: '', hash: '' },
    ];
    try {
      // Act
      const registries = [
        { name: 'a', kind: 'oci' as const, sheet: price, repositories: await loadRegistryInventory(adapters.get('a')!) },
        { name: 'b', kind: 'oci' as const, sheet: { ...price, transferPerGb: { sameRegion: 0.01, crossRegion: 0, internet: 0 } }, repositories: await loadRegistryInventory(adapters.get('b')!) },
      ];
      const report = await buildCostReport(registries, records, { now: new Date() });
      const html = renderCostsPage(report);
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.setContent(html);
      await page.screenshot({ path: screenshotPath('report-costs.png'), fullPage: true });

      // Assess
      const regA = report.registries.find((r) => r.registry === 'a')!;
      const app = regA.repositories.find((r) => r.repository === 'team/app')!;
      const api = regA.repositories.find((r) => r.repository === 'team/api')!;
      // Shared layer once: the registry stores less than the two repositories' sum.
      expect(regA.storedBytes).toBe(app.bytes + api.bytes - shared.length);
      expect(app.uniqueBytes).toBe(app.bytes - shared.length);
      expect(regA.storagePerMonth).toBeCloseTo((regA.storedBytes / GB) * 1000, 2);
      expect(app.storagePerMonth + api.storagePerMonth).toBeCloseTo(regA.storagePerMonth, 1);
      expect(report.transfer.pairs).toEqual([expect.objectContaining({ source: 'a', target: 'b', relation: 'sameRegion', bytes: GB, cost: 0 })]);
      // The same image in b with no rule needing it.
      expect(report.savings.map((s) => [s.kind, s.registry, s.repository])).toContainEqual(['duplicate', 'b', 'mirror/app']);
      expect(await page.locator('#registries svg rect').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#repositories tbody tr').count()).toBe(3);
      await page.close();
    } finally {
      closeAdapters(adapters.values());
    }
  });
});
