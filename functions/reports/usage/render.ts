// The usage report as terminal text (aligned columns within ~100 characters) and as Markdown; HTML is functions/web/reports/usage-page.ts.
import { formatBytes } from '../../format-bytes.ts';
import { textTable } from '../text-table.ts';
import type { UsageReport } from './model.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const ms = (v: number | null): string => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);
const cell = (v: string): string => v.replace(/\|/g, '\\|');

/** Markdown tables (`--format md`), for a wiki or a pull request: every value whole. */
export function usageMarkdown(r: UsageReport): string {
  const out = [`Usage report ${r.since} .. ${r.until}: ${r.records} audit records`, ''];
  out.push('Storage per repository (today; first and last day of the period)', '| registry | repository | now | first day | last day |', '|---|---|---:|---:|---:|');
  for (const s of r.storage) out.push(`| ${s.registry} | ${cell(s.repository)} | ${formatBytes(s.bytes)} | ${formatBytes(s.series[0]?.bytes ?? 0)} | ${formatBytes(s.series.at(-1)?.bytes ?? 0)} |`);
  out.push('', 'Pushes per repository and image (push events in the audit log)', '| registry | repository | pushes | images |', '|---|---|---:|---|');
  for (const p of r.pushes) out.push(`| ${p.registry} | ${cell(p.repository)} | ${p.pushes} | ${p.images.map((i) => `${short(i.digest)}${i.tags.length ? ` (${i.tags.join(', ')})` : ''} ×${i.pushes}`).join('; ')} |`);
  out.push('', `Pulls per repository${r.pullsUnknown.length ? ` (not counted by ${r.pullsUnknown.join(', ')})` : ''}`, '| registry | repository | pulls | images not pulled |', '|---|---|---:|---:|');
  for (const p of r.pulls) out.push(`| ${p.registry} | ${cell(p.repository)} | ${p.pulls ?? 'unknown'} | ${p.pulls === null ? '-' : p.unpulled} |`);
  out.push('', 'Most pulled images', '| registry | image | tags | pulls |', '|---|---|---|---:|');
  for (const i of r.mostPulled) out.push(`| ${i.registry} | ${cell(i.repository)}@${short(i.digest)} | ${i.tags.join(', ')} | ${i.pulls} |`);
  out.push('', 'Replication per target', '| target | copies | bytes | failures | lag p50 | lag p95 | lag max | last failure |', '|---|---:|---:|---:|---:|---:|---:|---|');
  for (const t of r.replication) {
    out.push(`| ${t.target} | ${t.copies} | ${formatBytes(t.bytes)} | ${t.failures} | ${ms(t.lag.p50Ms)} | ${ms(t.lag.p95Ms)} | ${ms(t.lag.maxMs)} | ${t.lastFailure ? `${t.lastFailure.time} ${cell(t.lastFailure.repository)} ${t.lastFailure.errorCode}` : '-'} |`);
  }
  out.push('', 'Promotions per environment', '| environment | runs | promoted | rejected | failed | in progress | lead time p50 | p95 | push to promoted p50 | p95 |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of r.promotions) out.push(`| ${p.environment} | ${p.runs} | ${p.promoted} | ${p.rejected} | ${p.failed} | ${p.inProgress} | ${ms(p.leadTime.p50Ms)} | ${ms(p.leadTime.p95Ms)} | ${ms(p.pushToPromoted.p50Ms)} | ${ms(p.pushToPromoted.p95Ms)} |`);
  const dlq = r.deadLetters;
  const errors = dlq ? Object.entries(dlq.byError).map(([k, v]) => `${k} ${v}`).join(', ') : '';
  out.push('', dlq ? `Dead letters waiting: ${dlq.backlog}${dlq.oldest ? ` (oldest ${dlq.oldest}; ${errors})` : ''}` : 'Dead letters: not read (no dead-letter file; on AWS the DLQ depth alarm watches the queue)');
  return out.join('\n');
}

/** A count with thousands separators (`1,234,567`), the same on every machine (no locale). */
export const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A duration for a terminal: `850 ms`, `4.0 s`, `20.0 min`, `5.2 h`, `3.1 d`; `-` when there is none. */
export function duration(v: number | null): string {
  if (v === null) return '-';
  if (v < 1000) return `${v} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  if (v < 3_600_000) return `${(v / 60_000).toFixed(1)} min`;
  if (v < 48 * 3_600_000) return `${(v / 3_600_000).toFixed(1)} h`;
  return `${(v / 86_400_000).toFixed(1)} d`;
}

/** Images listed per repository in the text's pushes table (`--format json` and `md` list every one). */
export const PUSHED_IMAGES = 5;

/** `1 push`, `1,234 pushes`. */
const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;

/** A size change: `+50 B`, `-1.5 MiB`, `0 B`. */
const change = (n: number): string => (n > 0 ? `+${formatBytes(n)}` : n < 0 ? `-${formatBytes(-n)}` : formatBytes(0));

/**
 * For a terminal: each section a table of aligned columns (counts, sizes and times right-aligned),
 * lines within about 100 characters: long registry, repository and target names, tag lists and
 * image lists are cut in the middle with `…` (`--format json` and `md` have them whole). Sizes in
 * binary units (`12.3 MiB`), counts with thousands separators, lag and lead times in `ms`, `s`,
 * `min`, `h` or `d`. Each target's last failure and the dead letters per error code are listed under
 * their tables, one per line, so a long repository name does not widen every row.
 */
export function usageText(r: UsageReport): string {
  const pushes = r.pushes.reduce((n, p) => n + p.pushes, 0);
  const known = r.pulls.filter((p) => p.pulls !== null);
  const pullTotal = count(known.reduce((n, p) => n + p.pulls!, 0));
  // Registries without pull statistics are unknown, not zero (model.ts pullsUnknown).
  const pulls = known.length === 0 && r.pulls.length > 0 ? 'pulls unknown' : `${pullTotal} pull${pullTotal === '1' ? '' : 's'}${r.pullsUnknown.length > 0 ? ` (not counted by ${r.pullsUnknown.join(', ')})` : ''}`;
  const copies = r.replication.reduce((n, t) => n + t.copies, 0);
  const failures = r.replication.reduce((n, t) => n + t.failures, 0);
  const out = [
    `Usage report ${r.since} .. ${r.until}: ${plural(r.records, 'audit record')}`,
    `  ${plural(pushes, 'push', 'pushes')}, ${pulls}, ${plural(copies, 'copy', 'copies')} (${count(failures)} failed)${r.deadLetters ? `, ${count(r.deadLetters.backlog)} waiting in the DLQ` : ''}`,
  ];

  const first = r.storage[0]?.series[0]?.day;
  const last = r.storage[0]?.series.at(-1)?.day;
  out.push('', `Storage per repository${first && last ? ` (now; at the end of ${first} and of ${last})` : ''}`);
  out.push(
    ...textTable(
      ['registry', 'repository', 'now', first ?? 'first day', last ?? 'last day', 'change'],
      r.storage.map((s) => {
        const from = s.series[0]?.bytes ?? 0;
        const to = s.series.at(-1)?.bytes ?? 0;
        return [s.registry, s.repository, formatBytes(s.bytes), formatBytes(from), formatBytes(to), change(to - from)];
      }),
      { right: [2, 3, 4, 5], flex: [1, 0] },
    ),
  );

  out.push('', `Pushes per repository and image (push events in the audit log): ${count(pushes)}`);
  out.push(
    ...textTable(
      ['registry', 'repository', 'pushes', 'image', 'tags', 'image pushes'],
      r.pushes.flatMap((p) => {
        // One line per image, the most pushed first, at most PUSHED_IMAGES of them; the repository named on its first line only.
        const shown = p.images.slice(0, PUSHED_IMAGES);
        const rest = p.images.slice(PUSHED_IMAGES);
        const rows = shown.map((i, n) => [n === 0 ? p.registry : '', n === 0 ? p.repository : '', n === 0 ? count(p.pushes) : '', short(i.digest), i.tags.join(', '), count(i.pushes)]);
        if (rest.length > 0) rows.push(['', '', '', `${count(rest.length)} more`, '', count(rest.reduce((n, i) => n + i.pushes, 0))]);
        return rows;
      }),
      { right: [2, 5], flex: [1, 4, 0] },
    ),
  );

  out.push('', `Pulls per repository${r.pullsUnknown.length ? ` (not counted by ${r.pullsUnknown.join(', ')})` : ''}`);
  out.push(
    ...textTable(
      ['registry', 'repository', 'pulls', 'images not pulled'],
      r.pulls.map((p) => [p.registry, p.repository, p.pulls === null ? 'unknown' : count(p.pulls), p.pulls === null ? '-' : count(p.unpulled)]),
      { right: [2, 3], flex: [1, 0] },
    ),
  );

  out.push('', 'Most pulled images');
  out.push(
    ...textTable(
      ['registry', 'repository', 'digest', 'tags', 'pulls'],
      r.mostPulled.map((i) => [i.registry, i.repository, short(i.digest), i.tags.join(', '), count(i.pulls ?? 0)]),
      { right: [4], flex: [1, 3, 0] },
    ),
  );

  out.push('', 'Replication per target (lag: push event → replicated)');
  out.push(
    ...textTable(
      ['target', 'copies', 'moved', 'failures', 'lag p50', 'lag p95', 'lag max'],
      r.replication.map((t) => [t.target, count(t.copies), formatBytes(t.bytes), count(t.failures), duration(t.lag.p50Ms), duration(t.lag.p95Ms), duration(t.lag.maxMs)]),
      { right: [1, 2, 3, 4, 5, 6], flex: [0] },
    ),
  );
  const failed = r.replication.filter((t) => t.lastFailure);
  if (failed.length > 0) {
    out.push('', 'Last failure per target');
    out.push(...textTable(['target', 'time', 'error', 'repository'], failed.map((t) => [t.target, t.lastFailure!.time, t.lastFailure!.errorCode, t.lastFailure!.repository]), { flex: [3, 0] }).slice(1));
  }

  out.push('', 'Promotions per environment (lead: request → promoted; push: push event → promoted)');
  out.push(
    ...textTable(
      ['environment', 'runs', 'promoted', 'rejected', 'failed', 'ongoing', 'lead p50', 'lead p95', 'push p50', 'push p95'],
      r.promotions.map((p) => [p.environment, count(p.runs), count(p.promoted), count(p.rejected), count(p.failed), count(p.inProgress), duration(p.leadTime.p50Ms), duration(p.leadTime.p95Ms), duration(p.pushToPromoted.p50Ms), duration(p.pushToPromoted.p95Ms)]),
      { right: [1, 2, 3, 4, 5, 6, 7, 8, 9], flex: [0] },
    ),
  );

  const dlq = r.deadLetters;
  out.push('');
  if (!dlq) out.push('Dead letters: not read (no dead-letter file; on AWS the DLQ depth alarm watches the queue)');
  else {
    out.push(`Dead letters waiting: ${count(dlq.backlog)}${dlq.oldest ? ` (oldest ${dlq.oldest})` : ''}`);
    const byError = Object.entries(dlq.byError).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    if (byError.length > 0) out.push(...textTable(['error', 'dead letters'], byError.map(([code, n]) => [code, count(n)]), { right: [1], flex: [0] }));
  }
  return out.join('\n');
}
