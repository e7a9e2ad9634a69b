// `regman rollback`: moves an environment back to the previously promoted digest (or a named one promoted there before) and holds it.
import { PromotionError } from './errors.ts';
import { adapterOf, nowOf, pathIn, type PromotionDeps } from './deps.ts';
import { findEdge, renderEnvTag } from './policy.ts';
import type { HoldRecord, PromotionHistoryEntry } from './types.ts';

export interface RollbackEnvironmentOptions {
  readonly environment: string;
  readonly repository: string;
  /** A digest or a tag that was promoted into the environment before. @default the previous promoted digest */
  readonly to?: string;
  readonly reason: string;
  readonly actor: string;
  readonly correlationId: string;
}

export interface RollbackEnvironmentResult {
  readonly from?: string;
  readonly to: string;
  readonly tags: readonly string[];
  readonly hold: HoldRecord;
}

/** Which history entry a rollback goes to: the named digest/tag, else the newest entry with another digest than the current one. */
export function rollbackTarget(history: readonly PromotionHistoryEntry[], to?: string): { current?: PromotionHistoryEntry; target: PromotionHistoryEntry } {
  const sorted = [...history].sort((a, b) => b.time.localeCompare(a.time));
  const current = sorted[0];
  const target = to
    ? sorted.find((h) => h.digest === to || h.tag === to || h.envTag === to)
    : sorted.find((h) => h.digest !== current?.digest);
  if (!target) {
    throw new PromotionError(
      'NOT_FOUND',
      to ? `${to} was never promoted into this environment (promoted: ${[...new Set(sorted.map((h) => `${h.tag}@${h.digest.slice(0, 19)}`))].join(', ') || 'nothing'})` : 'there is no earlier promoted digest to roll back to',
    );
  }
  return { ...(current ? { current } : {}), target };
}

/**
 * Tags the target digest in every registry of the environment (its original tag and a new environment
 * tag: no bytes move, the digest is there), records a `rollback` history entry, and sets a hold so
 * automatic and webhook promotions are refused until `regman hold release`. Audited `promote.rollback-env`.
 */
export async function rollbackEnvironment(o: RollbackEnvironmentOptions, deps: PromotionDeps): Promise<RollbackEnvironmentResult> {
  if (!o.reason.trim()) throw new PromotionError('BAD_INPUT', 'a rollback needs --reason');
  const env = deps.config.environments[o.environment];
  if (!env) throw new PromotionError('UNKNOWN_ENVIRONMENT', `environment "${o.environment}" is not in the config`);
  const { current, target } = rollbackTarget(await deps.store.history(o.environment, o.repository), o.to);
  const edge = deps.config.promotion.find((e) => e.to === o.environment);
  const template = edge ? findEdge(deps.config, edge.from, edge.to).envTagTemplate : '{env}-{tag}-{yyyyMMdd-HHmmss}';
  const now = nowOf(deps);
  const tags = [target.tag, renderEnvTag(template, { env: o.environment, tag: target.tag, time: now })];
  const written: string[] = [];
  try {
    for (const registry of env.registries) {
      const adapter = adapterOf(deps, registry);
      const repository = pathIn(adapter, o.repository);
      if (!(await adapter.oci.manifestHead(repository, target.digest))) throw new PromotionError('NOT_FOUND', `${registry}/${repository}@${target.digest} is gone: it cannot be tagged back`);
      for (const tag of tags) {
        await adapter.tagImage(repository, target.digest, tag);
        written.push(`${registry}/${repository}:${tag}`);
      }
    }
  } catch (err) {
    await deps.audit.append({ actor: o.actor, action: 'promote.rollback-env', outcome: 'failure', correlationId: o.correlationId, repository: o.repository, digest: target.digest, tags: written, errorMessage: err instanceof Error ? err.message : String(err), details: { environment: o.environment, reason: o.reason } });
    throw err;
  }
  const time = now.toISOString();
  await deps.store.addHistory({ environment: o.environment, repository: o.repository, digest: target.digest, tag: target.tag, envTag: tags[1]!, time, executionId: `rollback-${o.correlationId}`, requester: o.actor, approvers: [], gates: [], kind: 'rollback' });
  const hold: HoldRecord = { environment: o.environment, repository: o.repository, reason: `rollback: ${o.reason}`, by: o.actor, time, digest: target.digest };
  await deps.store.putHold(hold);
  await deps.audit.append({
    actor: o.actor, action: 'promote.rollback-env', outcome: 'success', correlationId: o.correlationId, repository: o.repository, digest: target.digest, tags: written,
    details: { environment: o.environment, reason: o.reason, ...(current ? { from: current.digest } : {}), hold: true },
  });
  return { ...(current ? { from: current.digest } : {}), to: target.digest, tags: written, hold };
}
