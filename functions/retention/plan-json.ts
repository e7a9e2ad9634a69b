// The stable JSON contract of `regman retention plan --json`; other tools script against it.
import type { RetentionPlan, SafetyBlock, TimeSource } from './types.ts';

/** `--json` output. `expire`, `keep` and `bytesFreed` are the contract; the other fields are additive. */
export interface PlanJson {
  readonly expire: readonly { readonly digest: string; readonly tags: readonly string[]; readonly rule: string; readonly reason: string }[];
  readonly keep: readonly { readonly digest: string; readonly tags: readonly string[]; readonly reason: string }[];
  readonly bytesFreed: number;
  readonly bytesFreedEstimated: boolean;
  readonly repository: string;
  readonly blocked: SafetyBlock | null;
  readonly warnings: readonly string[];
  /** Deletions a count or age rule would make without a trustworthy order: kept (rule `order.unknown`). */
  readonly orderBlocked: readonly { readonly digest: string; readonly tags: readonly string[]; readonly reason: string }[];
  /** Where each digest's time came from (`registry`, `push-log`, `annotation`, `config-created`, `config-label`, `unknown`). */
  readonly timeSources: Readonly<Record<string, TimeSource>>;
}

/** Projects a plan onto the JSON contract, in the plan's deterministic order. */
export function toPlanJson(plan: RetentionPlan): PlanJson {
  return {
    expire: plan.expire.map((d) => ({ digest: d.digest, tags: d.tags, rule: d.rule, reason: d.reason })),
    keep: plan.keep.map((d) => ({ digest: d.digest, tags: d.tags, reason: d.reason })),
    bytesFreed: plan.bytesFreed,
    bytesFreedEstimated: plan.bytesFreedEstimated,
    repository: plan.repository,
    blocked: plan.blocked,
    warnings: plan.warnings,
    orderBlocked: plan.keep.filter((d) => plan.orderBlocked.includes(d.digest)).map((d) => ({ digest: d.digest, tags: d.tags, reason: d.reason })),
    timeSources: Object.fromEntries(plan.decisions.map((d) => [d.digest, d.timeSource])),
  };
}
