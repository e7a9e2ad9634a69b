// The compliance report as a self-contained HTML page: totals chart, promotion timeline, evidence and security events.
import type { ComplianceReport } from '../../reports/compliance.ts';
import { esc, page, section, stackedBars, table, timeline, type PageLink } from './html.ts';

export const OUTCOME_COLORS = { success: '#1a7f37', rejected: '#cf222e', failure: '#bf8700', skipped: '#8c959f' } as const;

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

export function renderCompliancePage(r: ComplianceReport, options: { readonly nav?: readonly PageLink[] } = {}): string {
  const chain = r.chain.ok
    ? `<p class="ok">Audit chain verified: ${r.chain.checked} records, every hash and link intact.</p>`
    : `<p class="bad">Audit chain BROKEN</p>${table(['chain', 'record', 'reason'], r.chain.broken.map((b) => [b.partition, b.seq, `${b.reason}: ${b.detail}`]))}`;
  const actions = stackedBars(
    r.byAction.map((c) => ({ label: c.key, values: c.outcomes })),
    { title: 'Audit records by action and outcome', format: (v) => String(v), colors: OUTCOME_COLORS },
  );
  const events = r.promotions.flatMap((p) => p.records.map((x) => ({ lane: `${p.repository} → ${p.environment}`, time: x.time, label: `${x.action} ${x.outcome} by ${x.actor}`, ok: x.outcome === 'success' })));
  const promotions = table(
    ['requested', 'image', 'env', 'outcome', 'requester', 'approvals', 'scan', 'signature', 'test', 'execution'],
    r.promotions.map((p) => [
      p.requestedAt ?? '-',
      { html: `${esc(p.repository)}@<code>${esc(short(p.digest))}</code>` },
      p.environment,
      { html: `<span class="${p.outcome === 'promoted' ? 'ok' : 'bad'}">${esc(p.outcome)}</span>` },
      p.requester ?? 'unknown',
      p.approvers.map((a) => `${a.approver} ${a.decision}${a.comment ? ` “${a.comment}”` : ''}`).join('; ') || 'none',
      p.scan ? `${p.scan.outcome} ${JSON.stringify(p.scan.result ?? '')}` : '-',
      p.signature ? `${p.signature.outcome} ${JSON.stringify(p.signature.result ?? '')}` : '-',
      p.test ? `${p.test.outcome} ${JSON.stringify(p.test.result ?? '')}` : '-',
      { html: `<code>${esc(p.executionId)}</code>` },
    ]),
  );
  const security = table(
    ['time', 'kind', 'image', 'actor', 'why'],
    r.securityEvents.map((e) => [e.time, e.kind, `${e.repository ?? ''}${e.digest ? `@${short(e.digest)}` : ''}`, e.actor, e.why]),
  );
  const counts = (title: string, list: ComplianceReport['byActor']): string =>
    section(title, table(['', 'total', 'outcomes'], list.map((c) => [c.key, c.total, Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')]), [1]));
  return page(
    'Compliance report',
    `${r.since} .. ${r.until} · ${r.records} audit records · protected: ${r.protectedEnvironments.join(', ')}`,
    [
      section('Audit chain', chain, 'chain'),
      section('Records by action', actions, 'actions'),
      section(`Promotions into ${r.protectedEnvironments.join(', ')}`, timeline(events, { title: 'Promotion timeline' }) + promotions, 'promotions'),
      section('Security events', security, 'security'),
      counts('By actor', r.byActor),
      counts('By repository', r.byRepository),
    ].join('\n'),
    options.nav,
  );
}
