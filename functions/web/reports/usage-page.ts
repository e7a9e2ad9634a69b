// The usage report as a self-contained HTML page: storage over time, pushes and pulls, the most pulled images, replication lag and failures per target, the DLQ backlog.
import { formatBytes } from '../../format-bytes.ts';
import type { UsageReport } from '../../reports/usage/model.ts';
import { esc, lineChart, page, section, stackedBars, table, type PageLink } from './html.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const ms = (v: number | null): string => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

export function renderUsagePage(r: UsageReport, options: { readonly nav?: readonly PageLink[] } = {}): string {
  const storage = lineChart(
    r.storage.map((s) => ({ label: `${s.registry}/${s.repository}`, points: s.series.map((p) => ({ x: p.day, y: p.bytes })) })),
    { title: 'Storage per repository over time', format: formatBytes },
  );
  const lag = stackedBars(
    r.replication.filter((t) => t.lag.count > 0).map((t) => ({ label: t.target, values: { p50: t.lag.p50Ms ?? 0, 'p95 above p50': Math.max(0, (t.lag.p95Ms ?? 0) - (t.lag.p50Ms ?? 0)) } })),
    { title: 'Replication lag per target (event time to replicated)', format: (v) => ms(Math.round(v)) },
  );
  const pulled = stackedBars(
    r.mostPulled.map((i) => ({ label: `${i.repository}@${short(i.digest)}`, values: { pulls: i.pulls ?? 0 } })),
    { title: 'Most pulled images', format: String },
  );
  const d = r.deadLetters;
  const dlq = !d
    ? '<p class="meta">Not read: no dead-letter file (on AWS the DLQ depth alarm watches the queue).</p>'
    : d.backlog === 0
      ? '<p class="ok">No dead letters waiting.</p>'
      : `<p class="bad">${d.backlog} dead letter(s) waiting, oldest ${esc(d.oldest ?? 'unknown')}</p>${table(['error', 'count'], Object.entries(d.byError), [1])}`;
  return page(
    'Usage report',
    `${r.since} .. ${r.until} · ${r.records} audit records${r.pullsUnknown.length ? ` · pulls not counted by ${r.pullsUnknown.join(', ')}` : ''}`,
    [
      section('Storage per repository over time', storage + table(['registry', 'repository', 'now', 'first day', 'last day'], r.storage.map((s) => [s.registry, s.repository, formatBytes(s.bytes), formatBytes(s.series[0]?.bytes ?? 0), formatBytes(s.series.at(-1)?.bytes ?? 0)]), [2, 3, 4]), 'storage'),
      section('Pushes per repository and image', table(['registry', 'repository', 'pushes', 'images'], r.pushes.map((p) => [p.registry, p.repository, p.pushes, p.images.map((i) => `${short(i.digest)}${i.tags.length ? ` (${i.tags.join(', ')})` : ''} ×${i.pushes}`).join('; ')]), [2]), 'pushes'),
      section('Pulls per repository', table(['registry', 'repository', 'pulls', 'images not pulled'], r.pulls.map((p) => [p.registry, p.repository, p.pulls ?? 'unknown', p.pulls === null ? '-' : p.unpulled]), [2, 3]), 'pulls'),
      section('Most pulled images', pulled + table(['registry', 'image', 'tags', 'pulls'], r.mostPulled.map((i) => [i.registry, { html: `${esc(i.repository)}@<code>${esc(short(i.digest))}</code>` }, i.tags.join(', '), i.pulls ?? 0]), [3]), 'most-pulled'),
      section('Replication per target', lag + table(['target', 'copies', 'moved', 'failures', 'lag p50', 'lag p95', 'lag max', 'last failure'], r.replication.map((t) => [t.target, t.copies, formatBytes(t.bytes), t.failures, ms(t.lag.p50Ms), ms(t.lag.p95Ms), ms(t.lag.maxMs), t.lastFailure ? `${t.lastFailure.time} ${t.lastFailure.repository} ${t.lastFailure.errorCode}` : '-']), [1, 2, 3, 4, 5, 6]), 'replication'),
      section('Promotions per environment', table(['environment', 'runs', 'promoted', 'rejected', 'failed', 'in progress', 'lead time p50', 'p95', 'push to promoted p50', 'p95'], r.promotions.map((p) => [p.environment, p.runs, p.promoted, p.rejected, p.failed, p.inProgress, ms(p.leadTime.p50Ms), ms(p.leadTime.p95Ms), ms(p.pushToPromoted.p50Ms), ms(p.pushToPromoted.p95Ms)]), [1, 2, 3, 4, 5, 6, 7, 8, 9]), 'promotions'),
      section('Dead letters', dlq, 'dlq'),
    ].join('\n'),
    options.nav,
  );
}
