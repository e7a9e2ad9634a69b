// The cost report as a self-contained HTML page: cost per registry and per repository (stacked bars), transfer, savings.
import { formatBytes } from '../../format-bytes.ts';
import { priceSourceText } from '../../reports/costs/prices.ts';
import { reductionText } from '../../reports/costs/render.ts';
import type { CostReport } from '../../reports/costs/report.ts';
import { page, section, stackedBars, table, type PageLink } from './html.ts';

const usd = (v: number): string => `$${v.toFixed(2)}`;

export function renderCostsPage(r: CostReport, options: { readonly nav?: readonly PageLink[] } = {}): string {
  const perRegistry = stackedBars(
    r.registries.map((c) => ({ label: c.registry, values: { storage: c.storagePerMonth, 'plan / tier': c.fixedPerMonth, transfer: r.transfer.pairs.filter((p) => p.source === c.registry).reduce((n, p) => n + p.cost, 0) } })),
    { title: 'Cost per registry per month', format: usd },
  );
  const perRepository = stackedBars(
    r.registries.flatMap((c) => c.repositories.map((repo) => ({ label: `${c.registry}/${repo.repository}`, values: { [c.registry]: repo.storagePerMonth } }))),
    { title: 'Storage cost per repository per month', format: usd },
  );
  const savings = stackedBars(
    r.savings.map((s) => ({ label: `${s.registry}/${s.repository}`, values: { [s.kind]: s.perMonth } })),
    { title: 'Savings opportunities per month', format: usd },
  );
  return page(
    'Cost report',
    `${r.generatedAt} · total ${usd(r.totalPerMonth)}/month · savings found ${usd(r.savingsPerMonth)}/month`,
    [
      section('Cost per registry', perRegistry + table(['registry', 'kind', 'stored', 'dedupe', 'storage', 'plan / tier', 'total', 'reduction achieved', 'prices'], r.registries.map((c) => [c.registry, c.kind, formatBytes(c.storedBytes), c.dedupe, usd(c.storagePerMonth), usd(c.fixedPerMonth), usd(c.totalPerMonth), reductionText(c.reduction), priceSourceText(c)]), [4, 5, 6]), 'registries'),
      section('Storage per repository', perRepository + table(['registry', 'repository', 'bytes', 'unique bytes', 'storage'], r.registries.flatMap((c) => c.repositories.map((x) => [c.registry, x.repository, formatBytes(x.bytes), formatBytes(x.uniqueBytes), usd(x.storagePerMonth)])), [2, 3, 4]), 'repositories'),
      section('Transfer per source → target', table(['source', 'target', 'relation', 'moved', 'copies', '$/GB', 'cost'], r.transfer.pairs.map((p) => [p.source, p.target, p.relation, formatBytes(p.bytes), p.copies, p.pricePerGb, usd(p.cost)]), [3, 4, 5, 6]), 'transfer'),
      section('Savings opportunities', savings + table(['kind', 'where', 'bytes', '$/month', 'what', 'command'], r.savings.map((s) => [s.kind, `${s.registry}/${s.repository}`, formatBytes(s.bytes), usd(s.perMonth), s.what, { html: `<code>${s.command.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</code>` }]), [2, 3]), 'savings'),
    ].join('\n'),
    options.nav,
  );
}
