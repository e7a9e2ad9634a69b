// The cost report's terminal text (aligned, within 100 columns, human sizes, cents), its Markdown, and "reduction achieved" with and without a retention apply in the period.
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { GB, priceSheetFor } from '../../../functions/reports/costs/prices.ts';
import type { CostRegistryInput } from '../../../functions/reports/costs/model.ts';
import { costsMarkdown, costsText, reductionText } from '../../../functions/reports/costs/render.ts';
import { NO_RETENTION_APPLY, buildCostReport } from '../../../functions/reports/costs/report.ts';
import { cut, textTable } from '../../../functions/reports/text-table.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const MiB = 2 ** 20;
const blob = (n: number, size: number) => ({ digest: `sha256:${String(n).padStart(64, '0')}`, size });
const image = (n: number, tags: string[], blobs: ReturnType<typeof blob>[]) => ({ digest: `sha256:${String(n).padStart(64, 'f')}`, tags, blobs, pushedAt: '2026-01-01T00:00:00Z', lastPulledAt: '2026-05-30T00:00:00Z' });
const LONG = 'platform-team/payments/settlement-service-with-a-very-long-repository-name-for-reports';

// ecr-main: 12.3 MiB and a tiny 900-byte image (the old text printed both as "0.0xx GiB" / "0.000 GiB"); hub: 20 GiB on a plan.
const ecr: CostRegistryInput = {
  name: 'ecr-main',
  kind: 'ecr',
  region: 'us-east-1',
  sheet: priceSheetFor('ecr-main', 'ecr'),
  repositories: [
    { repository: 'team/app', images: [image(1, ['v1'], [blob(1, Math.round(12.3 * MiB))])] },
    { repository: 'team/tiny', images: [image(2, ['v1'], [blob(2, 900)])] },
    { repository: LONG, images: [image(3, [], [blob(3, 3 * MiB)])] },
  ],
};
const hub: CostRegistryInput = { name: 'hub', kind: 'dockerhub', sheet: priceSheetFor('hub', 'dockerhub', { storagePerGbMonth: 0.1, includedGb: 5 }), repositories: [{ repository: 'acme/app', images: [image(4, ['v1'], [blob(4, 20 * GB)])] }] };

const rec = (r: Partial<StoredAuditRecord> & Pick<StoredAuditRecord, 'action' | 'outcome'>): StoredAuditRecord => ({ actor: 'system:retention', correlationId: 'c', time: '2026-05-20T00:00:00.000Z', partition: 'p', seq: 1, prevHash: '', hash: '', ...r });
const replicated = rec({ action: 'replicate', outcome: 'success', source: 'ecr-main', target: 'hub', bytes: 2 * GB });
// hub's sweep freed 10 GiB; ecr-main had no sweep at all.
const swept = rec({ action: 'retention.delete', outcome: 'success', registry: 'hub', repository: 'acme/app', bytes: 10 * GB });

describe('cost report rendering', () => {
  it('prints text a terminal shows: aligned columns within 100 characters, sizes in binary units, money to the cent', async () => {
    // Prepare
    const report = await buildCostReport([ecr, hub], [replicated, swept], { now: NOW, since: '2026-05-02T00:00:00.000Z' });

    // Act
    const text = costsText(report);
    const lines = text.split('\n');

    // Assess
    expect(lines.filter((l) => !l.startsWith('      $ ') && !l.includes('https://')).every((l) => l.length <= 100)).toBe(true);
    expect(text).not.toMatch(/\|/);
    expect(text).not.toMatch(/GiB \|| 0\.0+ GiB/);
    expect(text).toMatch(/team\/app\s+12\.3 MiB\s+12\.3 MiB\s+\$0\.00/);
    expect(text).toMatch(/team\/tiny\s+900 B\s+900 B\s+\$0\.00/);
    // The long repository name is cut in the middle, keeping its end; JSON has it whole.
    expect(text).toContain('…');
    expect(text).toMatch(/…[a-z-]*for-reports\s/);
    expect(JSON.stringify(report)).toContain(LONG);
    // Header columns line up with the values under them (right-aligned sizes end in the same column).
    const header = lines.find((l) => l.includes('REPOSITORY'))!;
    const row = lines.find((l) => l.includes('team/app'))!;
    expect(row.indexOf('12.3 MiB') + '12.3 MiB'.length).toBe(header.indexOf('SIZE') + 'SIZE'.length);
    expect(text).toContain('Transfer per source → target since 2026-05-02: $0.18');
    expect(text).toMatch(/ecr-main\s+hub\s+internet\s+2\.0 GiB\s+1\s+0\.09\s+\$0\.18/);
    // Savings: the duplicate-free inventory has the untagged manifest; its command on the next line, whole.
    expect(lines[lines.findIndex((l) => l.includes('untagged')) + 1]).toMatch(/^ {6}\$ regman retention plan --registry ecr-main --repository platform-team\/payments\/settlement-service-with-a-very-long-repository-name-for-reports/);
    expect(text).toContain('  ecr-main  https://aws.amazon.com/ecr/pricing/ (2026-11-30)');
  });

  it('says "no retention apply in this period" where no retention.delete record is, in text, Markdown and JSON', async () => {
    // Act
    const report = await buildCostReport([ecr, hub], [replicated, swept], { now: NOW });
    const json = JSON.parse(JSON.stringify(report)) as { registries: { registry: string; reduction: Record<string, unknown> }[] };

    // Assess: hub's sweep freed 10 GiB: (20 + 10 − 5 included) GiB before, 20 − 5 after, at $0.10, plus the plan's fee.
    expect(report.registries.find((c) => c.registry === 'hub')!.reduction).toEqual({ before: 17.5, after: 16.5, saved: 1, bytesFreed: 10 * GB });
    expect(json.registries.find((c) => c.registry === 'ecr-main')!.reduction).toEqual({ before: null, after: null, saved: null, bytesFreed: 0, reason: NO_RETENTION_APPLY });
    expect(costsText(report)).toMatch(/ecr-main .*no retention apply in this period/);
    expect(costsText(report)).toMatch(/hub .*\$17\.50 → \$16\.50 \(saved \$1\.00, 10\.0 GiB freed\)/);
    expect(costsText(report)).not.toContain('$0.00 → $0.00');
    expect(costsMarkdown(report)).toMatch(/^\| ecr-main \| ecr \| .* \| no retention apply in this period \| https:/m);
  });

  it('counts a sweep that deleted nothing (every delete skipped or failed) as an apply that saved $0', async () => {
    const report = await buildCostReport([ecr], [rec({ action: 'retention.delete', outcome: 'skipped', registry: 'ecr-main', repository: 'team/app' })], { now: NOW });
    const reduction = report.registries[0]!.reduction;
    expect(reduction).toEqual({ before: 0, after: 0, saved: 0, bytesFreed: 0 });
    expect(reductionText(reduction)).toBe('$0.00 → $0.00 (saved $0.00, 0 B freed)');
  });

  it('keeps --format md as Markdown tables with human sizes', async () => {
    const md = costsMarkdown(await buildCostReport([ecr, hub], [replicated], { now: NOW }));
    expect(md).toContain('| registry | kind | stored | dedupe | storage | plan/tier | total | reduction achieved | prices |');
    expect(md).toContain('| ecr-main | team/tiny | 900 B | 900 B | $0.00 |');
    expect(md).toContain(`| ecr-main | ${LONG} | 3.0 MiB | 3.0 MiB | $0.00 |`);
    expect(md).toContain('| ecr-main | hub | internet | 2.0 GiB | 1 | 0.09 | $0.18 |');
  });
});

describe('textTable', () => {
  it('aligns, right-aligns numbers, cuts the flexible column to the width, and prints none for no rows', () => {
    expect(textTable(['registry', 'stored'], [['ecr-main', '12.3 MiB'], ['hub', '900 B']], { right: [1] })).toEqual(['  REGISTRY    STORED', '  ecr-main  12.3 MiB', '  hub          900 B']);
    const cutLines = textTable(['name', 'what'], [['a', 'x'.repeat(200)]], { width: 40 });
    expect(cutLines.every((l) => l.length <= 40)).toBe(true);
    expect(textTable(['a'], [])).toEqual(['  none']);
    expect(cut('abcdefghij', 5)).toBe('ab…ij');
  });
});
