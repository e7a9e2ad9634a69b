// Every price of the cost model can be overridden from the config's `pricing:` block: one table row per key, each changing the report to the cent.
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { validateConfig, type RegmanConfig } from '../../../functions/config/index.ts';
import { costRegistries } from '../../../functions/reports/costs/collect.ts';
import { GB, priceSheetFor, priceSourceText } from '../../../functions/reports/costs/prices.ts';
import { buildCostReport, type CostReport } from '../../../functions/reports/costs/report.ts';
import { costsText } from '../../../bin/commands/report.ts';

/** Six registries, one per pricing shape; each holds one 20 GiB image. `#name` lines are where a case inserts its `pricing:`. */
const CONFIG = `registries:
  ecr-main:
    kind: ecr
    region: us-east-1
    accountId: "123456789012"
    #ecr-main
  ecr-copy:
    kind: ecr
    region: us-east-1
    accountId: "123456789012"
  ecr-dr:
    kind: ecr
    region: us-west-2
    accountId: "123456789012"
  acr-eu:
    kind: acr
    name: acmeeu
    credentials: { secretName: regman/acr }
    #acr-eu
  gar-eu:
    kind: gar
    project: acme-platform
    location: europe-west1
    credentials: { secretName: regman/gar }
    #gar-eu
  hub:
    kind: dockerhub
    namespace: acme
    credentials: { secretName: regman/hub }
    #hub
`;

const NOW = new Date('2026-06-01T00:00:00Z');
const image = (registry: string) => ({ repository: 'team/app', images: [{ digest: `sha256:${registry}`, tags: ['v1'], blobs: [{ digest: 'sha256:layer', size: 20 * GB }], pushedAt: '2026-05-01T00:00:00Z', lastPulledAt: '2026-05-30T00:00:00Z' }] });
const rec = (source: string, target: string, seq: number): StoredAuditRecord => ({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'c', time: '2026-05-20T00:00:00.000Z', partition: 'p', seq, prevHash: '', hash: '', source, target, bytes: 10 * GB });
// 10 GiB each way from ecr-main: same region, cross region, and out to Azure.
const RECORDS = [rec('ecr-main', 'ecr-copy', 1), rec('ecr-main', 'ecr-dr', 2), rec('ecr-main', 'acr-eu', 3)];

function configWith(registry: string, yaml: string): RegmanConfig {
  const text = yaml === '' ? CONFIG : CONFIG.replace(`    #${registry}\n`, `    ${yaml}\n`);
  const result = validateConfig(text, 'config/registries.yaml');
  expect(result.errors).toEqual([]);
  return result.config as RegmanConfig;
}

async function reportOf(config: RegmanConfig): Promise<CostReport> {
  const registries = costRegistries(config).map((r) => ({ ...r, repositories: [image(r.name)] }));
  return buildCostReport(registries, RECORDS, { now: NOW });
}

type Figure = (r: CostReport) => number;
const reg = (name: string, field: 'storagePerMonth' | 'fixedPerMonth' | 'totalPerMonth'): Figure => (r) => r.registries.find((c) => c.registry === name)![field];
const pair = (target: string): Figure => (r) => r.transfer.pairs.find((p) => p.target === target)!.cost;

describe('cost report: every list price can be overridden per registry (pricing:)', () => {
  it.each([
    // [case, registry, yaml, figure, list-price figure, overridden figure, keys named]
    // ECR $0.10/GB-month × 20 GiB.
    ['storage price', 'ecr-main', 'pricing: { storagePerGbMonth: 0.05 }', reg('ecr-main', 'storagePerMonth'), 2, 1, ['pricing.storagePerGbMonth']],
    ['storage price by its older name', 'ecr-main', 'storagePricePerGbMonth: 0.05', reg('ecr-main', 'storagePerMonth'), 2, 1, ['pricing.storagePerGbMonth']],
    // ACR Standard: 0.667/day × 30 = 20.01; Basic is 0.167/day.
    ['ACR daily tier fee', 'acr-eu', 'pricing: { fixedPerDay: 0.167 }', reg('acr-eu', 'fixedPerMonth'), 20.01, 5.01, ['pricing.fixedPerDay']],
    ['ACR tier fee per month', 'acr-eu', 'pricing: { fixedPerMonth: 50 }', reg('acr-eu', 'fixedPerMonth'), 20.01, 50, ['pricing.fixedPerMonth']],
    // Standard includes 100 GiB (20 stored: nothing billed); Basic includes 10: 10 GiB × 0.003 × 30.
    ['ACR included storage', 'acr-eu', 'pricing: { includedGb: 10 }', reg('acr-eu', 'storagePerMonth'), 0, 0.9, ['pricing.includedGb']],
    // Artifact Registry: (20 − 0.5 free) × $0.10 = 1.95; without the free tier 2.00.
    ['Artifact Registry free tier', 'gar-eu', 'pricing: { includedGb: 0 }', reg('gar-eu', 'storagePerMonth'), 1.95, 2, ['pricing.includedGb']],
    // Docker Hub Team, one seat: $15; Pro: $9.
    ['Docker Hub plan fee', 'hub', 'pricing: { fixedPerMonth: 9 }', reg('hub', 'fixedPerMonth'), 15, 9, ['pricing.fixedPerMonth']],
    // Storage within the plan unless an allowance is set: 20 − 5 GiB at $0.10.
    ['Docker Hub allowance', 'hub', 'pricing: { includedGb: 5, storagePerGbMonth: 0.1 }', reg('hub', 'storagePerMonth'), 0, 1.5, ['pricing.storagePerGbMonth', 'pricing.includedGb']],
    // 10 GiB: same region free, cross region $0.02, internet $0.09 (the sender's egress).
    ['same-region transfer', 'ecr-main', 'pricing: { transferPerGb: { sameRegion: 0.01 } }', pair('ecr-copy'), 0, 0.1, ['pricing.transferPerGb.sameRegion']],
    ['cross-region transfer', 'ecr-main', 'pricing: { transferPerGb: { crossRegion: 0.035 } }', pair('ecr-dr'), 0.2, 0.35, ['pricing.transferPerGb.crossRegion']],
    ['internet egress', 'ecr-main', 'pricing: { transferPerGb: { internet: 0.05 } }', pair('acr-eu'), 0.9, 0.5, ['pricing.transferPerGb.internet']],
  ] as const)('%s', async (_case, registry, yaml, figure, listed, overridden, keys) => {
    // Prepare
    const before = await reportOf(configWith(registry, ''));
    // Act
    const after = await reportOf(configWith(registry, yaml));
    // Assess: the figure moves, the total moves by exactly as much, and the report says which keys replaced list prices.
    expect(figure(before)).toBe(listed);
    expect(figure(after)).toBe(overridden);
    expect(Math.round((after.totalPerMonth - before.totalPerMonth) * 100)).toBe(Math.round((overridden - listed) * 100));
    const row = after.registries.find((c) => c.registry === registry)!;
    expect(row.priceOverrides).toEqual(keys);
    expect(before.registries.every((c) => c.priceOverrides === undefined)).toBe(true);
    expect(costsText(after)).toContain(`${row.priceSource.url} (${row.priceSource.read}); config: ${keys.join(', ')}`);
  });

  it('names the list source alone when nothing is overridden', () => {
    expect(priceSourceText({ priceSource: { url: 'https://aws.amazon.com/ecr/pricing/', read: '2026-11-30' } })).toBe('https://aws.amazon.com/ecr/pricing/ (2026-11-30)');
  });

  it('prices a gcr registry as Artifact Registry (which serves gcr.io)', async () => {
    const config = configWith('gar-eu', '');
    const withGcr = { ...config, registries: { ...config.registries, gcr: { kind: 'gcr', project: 'acme-platform', host: 'gcr.io', public: false, pricing: { storagePerGbMonth: 0.026 } } } } as RegmanConfig;
    const row = (await reportOf(withGcr)).registries.find((c) => c.registry === 'gcr')!;
    // (20 − 0.5) GiB × $0.026.
    expect(row).toMatchObject({ kind: 'gar', storagePerMonth: 0.51, priceSource: { url: 'https://cloud.google.com/artifact-registry/pricing' } });
  });

  it.each([
    ['fixedPerMonth and fixedPerDay', { fixedPerMonth: 1, fixedPerDay: 1 }, /give one of pricing.fixedPerMonth and pricing.fixedPerDay/],
    ['a negative transfer price', { transferPerGb: { internet: -1 } }, /price override transferPerGb.internet must be a number >= 0/],
  ])('refuses %s outside the schema too (REPORT_BAD_PRICE)', (_n, override, message) => {
    expect(() => priceSheetFor('acr-eu', 'acr', override)).toThrow(expect.objectContaining({ code: 'REPORT_BAD_PRICE', message: expect.stringMatching(message) }));
  });
});
