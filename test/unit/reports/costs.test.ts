// Cost models to the cent over a known inventory with shared layers: storage per dedupe scope, transfer per pair, savings, reduction achieved, bad input.
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { GB, LIST_PRICES, priceSheetFor } from '../../../functions/reports/costs/prices.ts';
import { TransferAccumulator, findSavings, pickRegistries, reductionAchieved, registryStorageCost, relationOf, type CostRegistryInput } from '../../../functions/reports/costs/model.ts';
import type { Inventory, InventoryImage } from '../../../functions/retention/types.ts';

const blob = (n: number, gib: number) => ({ digest: `sha256:${String(n).padStart(64, '0')}`, size: gib * GB });
const L1 = blob(1, 10);
const L2 = blob(2, 5);
const L3 = blob(3, 2);
const L4 = blob(4, 1);
const L5 = blob(5, 3);
const NOW = new Date('2026-06-01T00:00:00Z');
const img = (d: string, tags: string[], blobs: (typeof L1)[], lastPulledAt: string | null = '2026-05-30T00:00:00Z'): InventoryImage => ({ digest: d, tags, blobs, pushedAt: '2026-01-01T00:00:00Z', lastPulledAt });
const app: Inventory = {
  repository: 'team/app',
  images: [img('sha256:img1', ['v1'], [L1, L2], '2025-11-01T00:00:00Z'), img('sha256:img2', ['v2'], [L1, L3]), img('sha256:img3', [], [L4])],
};
const api: Inventory = { repository: 'team/api', images: [img('sha256:img4', ['v1'], [L1, L5])] };

const ecr: CostRegistryInput = { name: 'ecr-main', kind: 'ecr', region: 'us-east-1', sheet: priceSheetFor('ecr-main', 'ecr'), repositories: [app, api] };
const acr: CostRegistryInput = { name: 'acr-eu', kind: 'acr', region: 'westeurope', sheet: priceSheetFor('acr-eu', 'acr', { includedGb: 0 }), repositories: [app, api] };
const acrListed: CostRegistryInput = { ...acr, sheet: priceSheetFor('acr-eu', 'acr') };
const gar: CostRegistryInput = { name: 'gar', kind: 'gar', region: 'europe-west1', sheet: priceSheetFor('gar', 'gar'), repositories: [{ repository: 'x', images: [img('sha256:g', ['1'], [{ digest: 'sha256:g1', size: 0.75 * GB }])] }] };

describe('storage cost', () => {
  it.each([
    // ECR counts per repository: 18 + 13 GiB at $0.10.
    ['ECR, per repository', ecr, { storedBytes: 31 * GB, storagePerMonth: 3.1, fixedPerMonth: 0, totalPerMonth: 3.1 }, [['team/app', 18 * GB, 8 * GB, 1.8], ['team/api', 13 * GB, 3 * GB, 1.3]]],
    // ACR counts the shared 10 GiB layer once: 21 GiB at $0.09 (0.003/day × 30), plus the Standard tier 0.667 × 30 a month.
    ['ACR, per registry, nothing included', acr, { storedBytes: 21 * GB, storagePerMonth: 1.89, fixedPerMonth: 20.01, totalPerMonth: 21.9 }, [['team/app', 18 * GB, 8 * GB, 1.17], ['team/api', 13 * GB, 3 * GB, 0.72]]],
    ['ACR, within the tier\'s 100 GiB', acrListed, { storedBytes: 21 * GB, storagePerMonth: 0, totalPerMonth: 20.01 }, [['team/api', 13 * GB, 3 * GB, 0], ['team/app', 18 * GB, 8 * GB, 0]]],
    // Artifact Registry: 0.75 GiB, of which 0.5 free.
    ['Artifact Registry free tier', gar, { storedBytes: 0.75 * GB, storagePerMonth: 0.03 }, [['x', 0.75 * GB, 0.75 * GB, 0.03]]],
  ] as const)('%s', (_name, reg, totals, repos) => {
    const cost = registryStorageCost(reg);
    expect(cost).toMatchObject(totals);
    expect(cost.repositories.map((r) => [r.repository, r.bytes, r.uniqueBytes, r.storagePerMonth])).toEqual(repos);
  });

  it('names the dedupe scope and price source of each kind', () => {
    for (const sheet of Object.values(LIST_PRICES)) {
      expect(sheet.source.url).toMatch(/^https:\/\//);
      expect(sheet.source.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(sheet.dedupeSource).toMatch(/https?:\/\//);
    }
  });

  it.each([['a string', '0.08'], ['a negative number', -1], ['NaN', Number.NaN]])('rejects a price override that is %s', (_n, value) => {
    expect(() => priceSheetFor('ecr-main', 'ecr', { storagePerGbMonth: value })).toThrow(expect.objectContaining({ code: 'REPORT_BAD_PRICE', message: expect.stringMatching(/registries\.ecr-main: price override storagePerGbMonth must be a number >= 0/) }));
  });

  it('rejects an unknown registry, naming the ones there are', () => {
    expect(() => pickRegistries([ecr, acr], ['nope'])).toThrow(expect.objectContaining({ code: 'REPORT_UNKNOWN_REGISTRY', message: expect.stringMatching(/there are: ecr-main, acr-eu/) }));
    expect(pickRegistries([ecr, acr], ['acr-eu']).map((r) => r.name)).toEqual(['acr-eu']);
  });
});

let seq = 0;
const rec = (r: Partial<StoredAuditRecord>): StoredAuditRecord => ({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'c', time: '2026-05-01T00:00:00.000Z', partition: 'p', seq: ++seq, prevHash: '', hash: '', ...r });

describe('transfer cost', () => {
  it('prices each source → target pair by relation: same region, cross region, internet', () => {
    // Prepare
    const dr: CostRegistryInput = { ...ecr, name: 'ecr-dr', region: 'us-west-2' };
    const same: CostRegistryInput = { ...ecr, name: 'ecr-same' };
    const acc = new TransferAccumulator(new Map([ecr, dr, same, acr].map((r) => [r.name, r])));
    // Act
    for (const r of [
      rec({ source: 'ecr-main', target: 'ecr-dr', bytes: 5 * GB }),
      rec({ source: 'ecr-main', target: 'ecr-dr', bytes: 5 * GB, action: 'sync' }),
      rec({ source: 'ecr-main', target: 'acr-eu', bytes: 4 * GB, action: 'promote.sync' }),
      rec({ source: 'ecr-main', target: 'ecr-same', bytes: 1 * GB }),
      rec({ source: 'ecr-main', target: 'ecr-dr', bytes: 7 * GB, outcome: 'failure' }),
      rec({ source: '127.0.0.1:5000', target: '127.0.0.1:5001', bytes: 100, action: 'copy' }),
      rec({ source: 'ecr-main', target: 'ecr-dr', bytes: 9 * GB, action: 'retention.delete' }),
    ]) acc.add(r);
    const result = acc.finish();
    // Assess
    expect(result.pairs.map((p) => [p.source, p.target, p.relation, p.bytes / GB, p.copies, p.cost])).toEqual([
      ['ecr-main', 'acr-eu', 'internet', 4, 1, 0.36],
      ['ecr-main', 'ecr-dr', 'crossRegion', 10, 2, 0.2],
      ['ecr-main', 'ecr-same', 'sameRegion', 1, 1, 0],
    ]);
    expect(result.total).toBe(0.56);
    expect(result.unpricedBytes).toBe(100);
  });

  it.each([
    [{ kind: 'gar', region: 'eu' }, { kind: 'gar', region: 'eu' }, 'sameRegion'],
    [{ kind: 'gar', region: 'eu' }, { kind: 'gar', region: 'us' }, 'crossRegion'],
    [{ kind: 'ecr', region: 'us-east-1' }, { kind: 'dockerhub' }, 'internet'],
    [{ kind: 'oci' }, { kind: 'oci' }, 'sameRegion'],
  ] as const)('relation %j → %j is %s', (a, b, expected) => {
    expect(relationOf(a, b)).toBe(expected);
  });
});

describe('savings and reduction achieved', () => {
  it('finds the retention plan, untagged, unpulled and duplicate savings with $/month and a command', () => {
    const savings = findSavings([ecr, acr], {
      now: NOW,
      plans: [{ registry: 'ecr-main', repository: 'team/app', bytesFreed: 2 * GB }],
      // acr-eu/team/api is a replication target; acr-eu/team/app is not.
      needed: (registry, repository) => registry === 'acr-eu' && repository === 'team/api',
    });
    expect(savings.map((s) => [s.kind, s.registry, s.repository, s.bytes / GB, s.perMonth])).toEqual([
      ['not-pulled', 'ecr-main', 'team/app', 5, 0.5],
      ['not-pulled', 'acr-eu', 'team/app', 5, 0.45],
      // img1 is in both registries; only its unique layer L2 would go from acr-eu (L1 stays for img2).
      ['duplicate', 'acr-eu', 'team/app', 5, 0.45],
      ['retention-plan', 'ecr-main', 'team/app', 2, 0.2],
      ['duplicate', 'acr-eu', 'team/app', 2, 0.18],
      ['untagged', 'ecr-main', 'team/app', 1, 0.1],
      ['untagged', 'acr-eu', 'team/app', 1, 0.09],
    ]);
    for (const s of savings) expect(s.command).toMatch(/^regman retention (plan|run) --registry /);
  });

  it('computes the before/after storage cost of a retention apply from the audit log', () => {
    const cost = registryStorageCost(ecr);
    const result = reductionAchieved(cost, ecr.sheet, [
      rec({ action: 'retention.delete', registry: 'ecr-main', bytes: 3 * GB }),
      rec({ action: 'retention.delete', registry: 'ecr-main', bytes: 1 * GB }),
      rec({ action: 'retention.delete', registry: 'ecr-main', bytes: 9 * GB, outcome: 'failure' }),
      rec({ action: 'retention.delete', registry: 'other', bytes: 9 * GB }),
    ]);
    expect(result).toEqual({ before: 3.5, after: 3.1, saved: 0.4, bytesFreed: 4 * GB });
  });
});
