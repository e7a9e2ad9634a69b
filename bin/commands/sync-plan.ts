// `regman sync --dry-run`: the adapters' OCI handles swapped for dry-run views, and the plan per target.
import { PlanRecorder, type PlannedWrites } from '../../functions/oci/copy-plan.ts';
import { DryRunSource, DryRunTarget } from '../../functions/oci/dry-run-registry.ts';
import type { RegistryAdapter } from '../../functions/registries/adapter.ts';
import type { SyncEvent, SyncResult } from '../../functions/registries/sync.ts';
import { plannedWritesText } from './copy-plan-text.ts';

/** One target of a sync dry run: its tags (up to date or to copy) and the writes held back, summed. */
export interface SyncTargetPlan extends PlannedWrites {
  readonly target: string;
  readonly repository: string;
  /** Each selected tag at this target: up to date, or what it would be copied as. */
  readonly copies: { readonly tag: string; readonly digest?: string; readonly upToDate?: boolean; readonly error?: string }[];
}

export interface SyncPlan {
  readonly dryRun: true;
  readonly source: string;
  readonly repository: string;
  readonly tags: string[];
  readonly targets: SyncTargetPlan[];
}

/** An adapter whose `oci` is `oci`; every other member (name, namespace, host) is the adapter's own. */
function withOci(adapter: RegistryAdapter, oci: RegistryAdapter['oci']): RegistryAdapter {
  return Object.create(adapter, { oci: { value: oci } }) as RegistryAdapter;
}

/**
 * The dry-run views of a sync's adapters. One DryRunTarget per target for the whole run, so that a
 * blob shared by two tags is planned once, as the real sync would send it once.
 */
export function dryRunAdapters(source: RegistryAdapter, targets: readonly RegistryAdapter[]) {
  const views = targets.map((t) => ({ name: t.name, target: new DryRunTarget(t.oci), recorder: new PlanRecorder() }));
  return {
    source: withOci(source, new DryRunSource(source.oci)),
    targets: targets.map((t, i) => withOci(t, views[i]!.target)),
    onEvent(e: SyncEvent): void {
      if (e.type === 'copy') views.find((v) => v.name === e.target)?.recorder.onEvent(e.event);
    },
    plan(result: SyncResult): SyncPlan {
      return {
        dryRun: true,
        source: result.source,
        repository: result.repository,
        tags: result.tags,
        targets: result.targets.map((t, i) => ({
          target: t.target,
          repository: t.repository,
          copies: t.tags.map((o) => ({
            tag: o.tag,
            ...(o.result ? { digest: o.result.digest, upToDate: o.result.noop } : {}),
            ...(o.error ? { error: o.error.message } : {}),
          })),
          ...views[i]!.recorder.summarise(views[i]!.target.writes),
        })),
      };
    },
  };
}

/** The plan as text: per target, the totals, then one line per tag. */
export function formatSyncPlan(plan: SyncPlan): string {
  const lines = [`dry run: sync ${plan.source}/${plan.repository}: ${plan.tags.length} tag(s)`];
  for (const t of plan.targets) {
    lines.push(`${t.target}/${t.repository}:`, ...plannedWritesText(t, '  '));
    for (const o of t.copies) lines.push(`    ${o.tag}: ${o.error !== undefined ? `FAILED: ${o.error.split('\n')[0]}` : o.upToDate ? 'up to date' : 'would copy'}`);
  }
  lines.push('nothing was written');
  return lines.join('\n');
}
