// Lineage as a self-contained HTML page: origin, platforms, provenance, SBOMs and signatures, then replication and promotions on a timeline.
import type { Lineage } from '../../reports/lineage/model.ts';
import { esc, page, section, table, timeline, type PageLink } from './html.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);
const code = (v: string): { html: string } => ({ html: `<code>${esc(v)}</code>` });

/** A GET form for the console (no state changes): the image to look up. */
export function lineageForm(image: string, action = '/reports/lineage'): string {
  return `<form method="get" action="${esc(action)}"><label>Image <input name="image" size="60" value="${esc(image)}" placeholder="127.0.0.1:5000/team/app:v1"></label> <button type="submit">Show lineage</button></form>`;
}

export function renderLineagePage(l: Lineage | undefined, options: { readonly form?: string; readonly error?: string; readonly nav?: readonly PageLink[] } = {}): string {
  const head = (options.form ?? '') + (options.error ? `<p class="bad" id="error">${esc(options.error)}</p>` : '');
  if (!l) return page('Image lineage', 'where an image came from and where it went', head, options.nav);
  const o = l.origin;
  const origin = table(['', ''], [
    ['source', o.source ?? '-'], ['revision', o.revision ?? '-'], ['version', o.version ?? '-'], ['created', o.created ?? '-'],
    ['base image', l.base ? `${l.base.name ?? '?'}${l.base.digest ? `@${l.base.digest}` : ''}` : '-'],
    ['tags', l.tags.join(', ') || 'none'], ['in indexes', l.parents.map((p) => `${p.tag} (${short(p.digest)})`).join(', ') || 'none'],
  ]);
  const platforms = table(['platform', 'digest', 'attestation'], l.platforms.map((p) => [p.platform, code(p.digest), p.attestation ? code(p.attestation) : '-']));
  const provenance = table(['predicate', 'builder', 'build type', 'trigger', 'commit', 'materials', 'found in'], l.provenance.map((p) => [
    p.predicateType, p.builder ?? '-', p.buildType ?? '-', p.trigger ?? '-', p.commit ? `${p.commit.source ?? ''} ${p.commit.revision ?? ''}`.trim() : '-', p.materials.map((m) => m.uri).join('\n') || '-', `${p.via} ${short(p.attestation)}`,
  ]));
  const attached = table(['kind', 'format / type', 'where', 'detail'], [
    ...l.sboms.map((s) => ['sbom', s.format, `${s.via} ${short(s.digest)}`, s.packages !== undefined ? `${s.packages} packages` : '']),
    ...l.signatures.map((s) => ['signature', s.artifactType ?? 'cosign', `${s.via} ${s.ref.startsWith('sha256:') ? short(s.ref) : s.ref}`, '']),
    ...l.otherReferrers.map((r) => ['referrer', r.artifactType ?? '', short(r.digest), '']),
  ]);
  const events = [
    ...l.copies.map((c) => ({ lane: `→ ${c.target ?? '?'}`, time: c.time, label: `${c.action} ${c.outcome} by ${c.actor}`, ok: c.outcome === 'success' || c.outcome === 'skipped' })),
    ...l.promotions.map((p) => ({ lane: `promote → ${p.environment}`, time: p.time, label: `${p.outcome}, requested by ${p.requester ?? 'unknown'}`, ok: p.outcome === 'promoted' })),
  ];
  const went = timeline(events, { title: 'Replication and promotion timeline' })
    + '<h3>Copies</h3>' + table(['time', 'action', 'from', 'to', 'outcome', 'by'], l.copies.map((c) => [c.time, c.action, c.source ?? '-', `${c.target ?? '-'}${c.targetRepository ? `/${c.targetRepository}` : ''}`, c.outcome, c.pushedBy ? `${c.actor} (pushed by ${c.pushedBy})` : c.actor]))
    + '<h3>Promotions</h3>' + table(['time', 'environment', 'from', 'outcome', 'requested by', 'approved by', 'execution'], l.promotions.map((p) => [p.time, p.environment, p.from ?? '-', p.outcome, p.requester ?? 'unknown', p.approvers.join(', ') || 'nobody', code(p.executionId)]));
  return page(
    'Image lineage',
    `${l.image.reference} · ${l.image.digest} · ${l.image.kind} in ${l.image.registry}/${l.image.repository}`,
    [head, section('Came from', origin, 'origin'), section('Platforms', platforms, 'platforms'), section('Build provenance', provenance, 'provenance'), section('SBOMs, signatures and other referrers', attached, 'attached'), section('Went to', went, 'went')].join('\n'),
    options.nav,
  );
}
