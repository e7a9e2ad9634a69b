// The usage report as text and Markdown (one renderer: Markdown tables read fine as text); HTML is functions/web/reports/usage-page.ts.
import { formatBytes } from '../../format-bytes.ts';
import type { UsageReport } from './model.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const ms = (v: number | null): string => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);
const cell = (v: string): string => v.replace(/\|/g, '\\|');

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
