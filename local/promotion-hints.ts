// The start-up banner's promotion lines: the configured edges and their gates, and the exact commands to try them.
import type { PromotionEdge, RegmanConfig } from '../functions/config/types.ts';
import type { LocalEndpoints } from './endpoints.ts';

/** One edge's gates in a few words: `scan (critical 0, high ≤ 2), signature, tests, 2 of 3 approvals`. */
export function describeGates(edge: PromotionEdge): string {
  const g = edge.gates;
  const parts: string[] = [];
  if (g.scan) {
    const limits = Object.entries(g.scan.maxFindings).filter(([, n]) => n !== undefined).map(([sev, n]) => (n === 0 ? `${sev} 0` : `${sev} ≤ ${n}`));
    parts.push(`scan (${g.scan.source}: ${limits.join(', ')})`);
  }
  if (g.signature) parts.push('signature');
  if (g.tests) parts.push(`tests (${g.tests.http ? 'HTTP hook' : g.tests.lambda ? 'Lambda' : 'CodeBuild'})`);
  if (g.approval) parts.push(`${g.approval.required} of ${g.approval.approvers.length} approval${g.approval.approvers.length === 1 ? '' : 's'}`);
  return parts.length > 0 ? parts.join(', ') : 'no gates';
}

/**
 * Lines for the banner; empty when the config has no promotion edge. The commands name this state
 * folder and the first edge, so they can be pasted as they are.
 */
export function promotionHints(o: { readonly config: Pick<RegmanConfig, 'promotion'>; readonly endpoints: Pick<LocalEndpoints, 'registries' | 'environments'>; readonly stateDir: string }): string[] {
  const first = o.config.promotion[0];
  if (!first) return [];
  const s = `--state-dir ${o.stateDir}`;
  const fromRegistry = o.endpoints.environments[first.from]?.[0];
  const fromHost = fromRegistry !== undefined ? o.endpoints.registries[fromRegistry]?.replace(/^http:\/\//, '') : undefined;
  const approver = first.gates.approval?.approvers[0];
  return [
    '',
    `Promotion (one digest, behind gates): ${o.config.promotion.map((e) => `${e.from} → ${e.to} [${describeGates(e)}]`).join('; ')}. Try:`,
    `  npx regman demo ${s}   (builds a signed multi-arch image with an SBOM and a scan report offline, and pushes it to ${first.from})`,
    ...(fromHost ? [`  npx regman attach --artifact-type application/sarif+json report.sarif ${fromHost}/app:v1 --plain-http   (the scan report the scan gate reads)`] : []),
    `  npx regman promote ${s} --repository app --tag v1 --from ${first.from} --to ${first.to}`,
    ...(approver ? [`  npx regman approvals list ${s}   then   npx regman approve <execution id> ${s} --as ${approver}`] : []),
    `  npx regman promotions show <execution id> ${s}`,
  ];
}
