// Lineage as text (the CLI's default output); JSON is the model itself, HTML is functions/web/reports/lineage-page.ts.
import type { Lineage } from './model.ts';

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

export function lineageText(l: Lineage): string {
  const out = [`${l.image.reference}`, `  digest     ${l.image.digest} (${l.image.kind}, ${l.image.mediaType})`, `  registry   ${l.image.registry}  repository ${l.image.repository}`, `  tags       ${l.tags.join(', ') || 'none'}`];
  if (l.parents.length) out.push(`  in index   ${l.parents.map((p) => `${p.tag} (${short(p.digest)})`).join(', ')}`);
  out.push('', 'Came from');
  const o = l.origin;
  const rows: [string, string | undefined][] = [['source', o.source], ['revision', o.revision], ['version', o.version], ['created', o.created], ['base image', l.base ? `${l.base.name ?? '?'}${l.base.digest ? `@${l.base.digest}` : ''}` : undefined]];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(10)} ${v ?? '-'}`);
  for (const p of l.platforms) out.push(`  platform   ${p.platform.padEnd(14)} ${short(p.digest)}${p.attestation ? `  attestation ${short(p.attestation)}` : ''}`);
  for (const p of l.provenance) {
    out.push(`  provenance ${p.predicateType} (${p.via} ${short(p.attestation)})`);
    out.push(`    builder  ${p.builder ?? '-'}`, `    build    ${p.buildType ?? '-'}`, `    trigger  ${p.trigger ?? '-'}`, `    commit   ${p.commit ? `${p.commit.source ?? ''} ${p.commit.revision ?? ''}`.trim() : '-'}`);
    for (const m of p.materials) out.push(`    material ${m.uri}${m.digest ? ` ${Object.entries(m.digest).map(([k, v]) => `${k}:${v.slice(0, 12)}`).join(' ')}` : ''}`);
  }
  for (const s of l.sboms) out.push(`  sbom       ${s.format} (${s.via} ${short(s.digest)})${s.packages !== undefined ? ` ${s.packages} packages` : ''}`);
  for (const s of l.signatures) out.push(`  signature  ${s.via} ${s.ref}${s.artifactType ? ` (${s.artifactType})` : ''}`);
  for (const r of l.otherReferrers) out.push(`  referrer   ${short(r.digest)} ${r.artifactType ?? ''}`);
  out.push('', 'Went to');
  if (l.copies.length === 0 && l.promotions.length === 0) out.push('  nothing in the audit log');
  for (const c of l.copies) out.push(`  ${c.time} ${c.action} ${c.source ?? '?'} → ${c.target ?? '?'}${c.targetRepository ? `/${c.targetRepository}` : ''} ${c.outcome} by ${c.actor}${c.pushedBy ? ` (pushed by ${c.pushedBy})` : ''}`);
  for (const p of l.promotions) out.push(`  ${p.time} promoted ${p.from ?? '?'} → ${p.environment} ${p.outcome} requested by ${p.requester ?? 'unknown'}, approved by ${p.approvers.join(', ') || 'nobody'} (execution ${p.executionId})`);
  return out.join('\n');
}
