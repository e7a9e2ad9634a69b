// The cost report as terminal text (aligned columns within ~100 characters) and as Markdown; HTML is functions/web/reports/costs-page.ts.
import { formatBytes } from '../../format-bytes.ts';
import { textTable } from '../text-table.ts';
import { priceSourceText } from './prices.ts';
import type { CostReduction, CostReport } from './report.ts';

/** Money to the cent. */
export const usd = (v: number): string => `$${v.toFixed(2)}`;

/** "$12.00 → $10.50 (saved $1.50, 15.0 GiB freed)", or why there is nothing to compare. */
export function reductionText(r: CostReduction): string {
  if (r.before === null) return r.reason;
  return `${usd(r.before)} → ${usd(r.after)} (saved ${usd(r.saved)}, ${formatBytes(r.bytesFreed)} freed)`;
}

const day = (iso: string): string => iso.slice(0, 10);

function headline(r: CostReport): string {
  return `total ${usd(r.totalPerMonth)}/month (transfer ${usd(r.transfer.total)}${r.since ? ` since ${day(r.since)}` : ''}); savings found ${usd(r.savingsPerMonth)}/month`;
}

const unpriced = (r: CostReport): string => (r.transfer.unpricedBytes > 0 ? `; ${formatBytes(r.transfer.unpricedBytes)} between hosts that are not configured registries, unpriced` : '');

/**
 * For a terminal: each section a table of aligned columns, sizes in binary units (`12.3 MiB`), money
 * to the cent, lines within about 100 characters (long repository names and descriptions are cut
 * with `…`; `--format json` has them whole). The price sources and the savings' commands are listed
 * under their tables, one per line, so a long URL or command does not widen every row.
 */
export function costsText(r: CostReport): string {
  const out = [`Cost report ${r.generatedAt}`, `  ${headline(r)}`, '', 'Registries (per month)'];
  out.push(
    ...textTable(
      ['registry', 'kind', 'stored', 'dedupe', 'storage', 'plan/tier', 'total'],
      r.registries.map((c) => [c.registry, c.kind, formatBytes(c.storedBytes), c.dedupe, usd(c.storagePerMonth), usd(c.fixedPerMonth), usd(c.totalPerMonth)]),
      { right: [2, 4, 5, 6], flex: [0] },
    ),
  );
  if (r.registries.length > 0) {
    // Lists, not columns: a URL or a sentence per registry.
    out.push('', `Cost reduction achieved by retention${r.since ? ` since ${day(r.since)}` : ''} (storage per month, before → after)`);
    out.push(...textTable(['registry', 'reduction'], r.registries.map((c) => [c.registry, reductionText(c.reduction)])).slice(1));
    out.push('', 'Prices');
    out.push(...textTable(['registry', 'source'], r.registries.map((c) => [c.registry, priceSourceText(c)]), { width: Number.POSITIVE_INFINITY }).slice(1));
  }
  out.push('', 'Storage per repository (per month)');
  out.push(
    ...textTable(
      ['registry', 'repository', 'size', 'unique', 'storage'],
      r.registries.flatMap((c) => c.repositories.map((x) => [c.registry, x.repository, formatBytes(x.bytes), formatBytes(x.uniqueBytes), usd(x.storagePerMonth)])),
      { right: [2, 3, 4], flex: [1] },
    ),
  );
  out.push('', `Transfer per source → target${r.since ? ` since ${day(r.since)}` : ''}: ${usd(r.transfer.total)}${unpriced(r)}`);
  out.push(...textTable(['source', 'target', 'relation', 'moved', 'copies', '$/GB', 'cost'], r.transfer.pairs.map((p) => [p.source, p.target, p.relation, formatBytes(p.bytes), String(p.copies), String(p.pricePerGb), usd(p.cost)]), { right: [3, 4, 5, 6], flex: [0, 1] }));
  out.push('', `Savings opportunities: ${usd(r.savingsPerMonth)}/month`);
  const [header, ...rows] = textTable(['kind', 'where', 'size', 'per month', 'what'], r.savings.map((x) => [x.kind, `${x.registry}/${x.repository}`, formatBytes(x.bytes), usd(x.perMonth), x.what]), { right: [2, 3], flex: [1, 4] });
  out.push(header!);
  // Each saving's command under it, whole: it is what to copy.
  rows.forEach((line, i) => out.push(line, `      $ ${r.savings[i]!.command}`));
  return out.join('\n');
}

const cell = (v: string): string => v.replace(/\|/g, '\\|');

/** Markdown tables (`--format md`), for a wiki or a pull request: every value whole. */
export function costsMarkdown(r: CostReport): string {
  const out = [`# Cost report`, '', `${r.generatedAt} · ${headline(r)}`, ''];
  out.push('## Registries', '', '| registry | kind | stored | dedupe | storage | plan/tier | total | reduction achieved | prices |', '|---|---|---:|---|---:|---:|---:|---|---|');
  for (const c of r.registries) out.push(`| ${c.registry} | ${c.kind} | ${formatBytes(c.storedBytes)} | ${c.dedupe} | ${usd(c.storagePerMonth)} | ${usd(c.fixedPerMonth)} | ${usd(c.totalPerMonth)} | ${reductionText(c.reduction)} | ${cell(priceSourceText(c))} |`);
  out.push('', '## Storage per repository', '', '| registry | repository | size | unique | storage |', '|---|---|---:|---:|---:|');
  for (const c of r.registries) for (const x of c.repositories) out.push(`| ${c.registry} | ${cell(x.repository)} | ${formatBytes(x.bytes)} | ${formatBytes(x.uniqueBytes)} | ${usd(x.storagePerMonth)} |`);
  out.push('', `## Transfer${r.since ? ` since ${day(r.since)}` : ''}: ${usd(r.transfer.total)}${unpriced(r)}`, '', '| source | target | relation | moved | copies | $/GB | cost |', '|---|---|---|---:|---:|---:|---:|');
  for (const p of r.transfer.pairs) out.push(`| ${p.source} | ${p.target} | ${p.relation} | ${formatBytes(p.bytes)} | ${p.copies} | ${p.pricePerGb} | ${usd(p.cost)} |`);
  out.push('', '## Savings opportunities', '', '| kind | where | size | $/month | what | command |', '|---|---|---:|---:|---|---|');
  for (const x of r.savings) out.push(`| ${x.kind} | ${cell(`${x.registry}/${x.repository}`)} | ${formatBytes(x.bytes)} | ${usd(x.perMonth)} | ${cell(x.what)} | \`${x.command}\` |`);
  return out.join('\n');
}
