// The compliance report and release evidence as text, Markdown and JSON (HTML: functions/web/reports/compliance-page.ts).
import type { ComplianceReport } from './compliance.ts';
import type { ReleaseEvidence } from './promotion-records.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const json = (v: unknown): string => (v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join('  '));
}

export function complianceText(r: ComplianceReport): string {
  const out = [`Compliance report ${r.since} .. ${r.until}: ${r.records} audit records`, ''];
  out.push(`Audit chain: ${r.chain.ok ? `verified (${r.chain.checked} records, every hash and link intact)` : `BROKEN: ${r.chain.broken.map((b) => `${b.partition} #${b.seq} ${b.reason}`).join('; ')}`}`, '');
  for (const [title, counts] of [['By action', r.byAction], ['By actor', r.byActor], ['By repository', r.byRepository]] as const) {
    out.push(title, ...columns([['', 'TOTAL', 'OUTCOMES'], ...counts.map((c) => [`  ${c.key}`, String(c.total), Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')])]), '');
  }
  out.push(`Promotions into ${r.protectedEnvironments.join(', ')}: ${r.promotions.length}`);
  for (const p of r.promotions) {
    out.push(`  ${p.requestedAt ?? p.records[0]?.time ?? ''} ${p.repository}@${short(p.digest)} → ${p.environment}: ${p.outcome} (execution ${p.executionId})`);
    out.push(`    requested by ${p.requester ?? 'unknown'}; approvals: ${p.approvers.map((a) => `${a.approver} ${a.decision}${a.comment ? ` "${a.comment}"` : ''}`).join('; ') || 'none'}`);
    out.push(`    scan ${p.scan ? `${p.scan.outcome} ${json(p.scan.result)}` : '-'}; signature ${p.signature ? `${p.signature.outcome} ${json(p.signature.result)}` : '-'}; test ${p.test ? `${p.test.outcome} ${json(p.test.result)}` : '-'}`);
  }
  out.push('', `Security events: ${r.securityEvents.length}`);
  for (const e of r.securityEvents) out.push(`  ${e.time} ${e.kind} ${e.repository ?? ''}${e.digest ? `@${short(e.digest)}` : ''} by ${e.actor}: ${e.why}`);
  return out.join('\n');
}

export function complianceMarkdown(r: ComplianceReport): string {
  const out = [`# Compliance report`, '', `Period ${r.since} .. ${r.until} · ${r.records} audit records`, ''];
  out.push(`**Audit chain:** ${r.chain.ok ? `verified, ${r.chain.checked} records` : `BROKEN (${r.chain.broken.map((b) => `${b.partition} #${b.seq} ${b.reason}`).join('; ')})`}`, '');
  for (const [title, counts] of [['By action', r.byAction], ['By actor', r.byActor], ['By repository', r.byRepository]] as const) {
    out.push(`## ${title}`, '', '| | total | outcomes |', '|---|---:|---|', ...counts.map((c) => `| ${md(c.key)} | ${c.total} | ${Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')} |`), '');
  }
  out.push(`## Promotions into ${r.protectedEnvironments.join(', ')}`, '');
  if (r.promotions.length === 0) out.push('none', '');
  for (const p of r.promotions) out.push(evidenceMarkdown(p, 3), '');
  out.push('## Security events', '');
  out.push(r.securityEvents.length === 0 ? 'none' : ['| time | kind | image | actor | why |', '|---|---|---|---|---|', ...r.securityEvents.map((e) => `| ${e.time} | ${e.kind} | ${md(`${e.repository ?? ''}${e.digest ? `@${short(e.digest)}` : ''}`)} | ${md(e.actor)} | ${md(e.why)} |`)].join('\n'));
  return out.join('\n') + '\n';
}

/** One release's evidence as Markdown an auditor can keep next to the JSON. */
export function evidenceMarkdown(e: ReleaseEvidence, level = 1): string {
  const h = '#'.repeat(level);
  const lines = [
    `${h} Release evidence: ${md(e.repository)} → ${md(e.environment)}`,
    '',
    `| field | value |`,
    `|---|---|`,
    `| digest | \`${e.digest}\` |`,
    `| tags | ${md(e.tags.join(', ') || '-')} |`,
    `| from | ${md(e.from ?? '-')} |`,
    `| outcome | **${e.outcome}**${e.finishedAt ? ` at ${e.finishedAt}` : ''} |`,
    `| execution | \`${md(e.executionId)}\` |`,
    `| requester | ${md(e.requester ?? 'unknown')}${e.requestedAt ? ` at ${e.requestedAt}` : ''} |`,
    `| scan | ${e.scan ? `${e.scan.outcome} ${md(json(e.scan.result))}` : '-'} |`,
    `| signature | ${e.signature ? `${e.signature.outcome} ${md(json(e.signature.result))}` : '-'} |`,
    `| test | ${e.test ? `${e.test.outcome} ${md(json(e.test.result))}` : '-'} |`,
    '',
    `${h}# Approvals`,
    '',
    e.approvers.length === 0 ? 'none' : ['| approver | decision | comment | time |', '|---|---|---|---|', ...e.approvers.map((a) => `| ${md(a.approver)} | ${a.decision} | ${md(a.comment ?? '')} | ${a.time} |`)].join('\n'),
    '',
    `${h}# Audit records`,
    '',
    ['| time | action | outcome | actor | chain | hash |', '|---|---|---|---|---|---|', ...e.records.map((r) => `| ${r.time} | ${r.action} | ${r.outcome} | ${md(r.actor)} | ${md(r.partition)} #${r.seq} | \`${r.hash.slice(0, 16)}…\` |`)].join('\n'),
  ];
  return lines.join('\n');
}

const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
