// The text form of a dry-run plan (copy and sync): what would be uploaded, mounted, skipped and tagged.
import type { PlannedWrites, RepositoryCopyPlan } from '../../functions/oci/copy-plan.ts';
import { formatBytes } from '../../functions/format-bytes.ts';

/** `sha256:abcdef…` → 12 hex digits (load-adapters.ts has the same, but would pull the config loader into `copy`). */
const shortDigest = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

/** The lines under a plan's header: blobs and bytes, manifests, tags (new or moving). */
export function plannedWritesText(p: PlannedWrites, indent = '  '): string[] {
  if (p.noop) return [`${indent}up to date: nothing would be written (${p.present.length} blob(s) present, ${formatBytes(p.bytes.present)})`];
  const lines = [
    `${indent}would upload ${p.upload.length} blob(s), ${formatBytes(p.bytes.upload)}; mount ${p.mount.length} (${formatBytes(p.bytes.mount)}); ` +
      `${p.present.length} already present (${formatBytes(p.bytes.present)})`,
    `${indent}would push ${p.manifests.length} manifest(s)`,
  ];
  for (const t of p.tags) {
    lines.push(`${indent}would ${t.from === undefined ? 'create' : t.from === t.to ? 'rewrite' : 'move'} tag ${t.repository}:${t.tag}` +
      `${t.from !== undefined && t.from !== t.to ? ` from ${shortDigest(t.from)}` : ''} → ${shortDigest(t.to)}`);
  }
  return lines;
}

/** `regman copy --dry-run` as text. */
export function formatCopyPlan(src: string, dst: string, plan: PlannedWrites & { readonly digest: string }): string {
  return [`dry run: ${src} → ${dst} ${plan.digest}`, ...plannedWritesText(plan), 'nothing was written'].join('\n');
}

/** `regman copy --all-tags … --dry-run` as text: the totals, then one line per tag. */
export function formatRepositoryCopyPlan(src: string, dst: string, plan: RepositoryCopyPlan): string {
  return [
    `dry run: ${src} → ${dst}: ${plan.copies.length} tag(s)`,
    ...plannedWritesText(plan),
    ...plan.copies.map((c) => `    ${c.tag}: ${c.error !== undefined ? `FAILED: ${c.error.split('\n')[0]}` : c.upToDate ? 'up to date' : 'would copy'}`),
    'nothing was written',
  ].join('\n');
}
