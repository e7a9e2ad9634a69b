// ApplyTags and Rollback: write the original and environment tags in the target registries, and undo exactly what a run moved.
import { PromotionError } from './errors.ts';
import { adapterOf, auditStep, imageName, pathIn, updateRecord, validated, type PromotionDeps, type PromotionState, type RollbackResult } from './deps.ts';
import type { TagMove } from './types.ts';

const describeTag = (m: Pick<TagMove, 'registry' | 'repository' | 'tag'>): string => `${m.registry}/${m.repository}:${m.tag}`;

/**
 * Reads what every target tag points to now and writes that down FIRST (the record's `tagMoves`), so a
 * failure at any later point can be rolled back. Then tags the digest in each registry that already
 * has it (no bytes move: ECR PutImage / a manifest PUT of the raw bytes); registries without it get
 * the digest and both tags from Sync.
 */
export async function applyTags(state: PromotionState, deps: PromotionDeps): Promise<{ moves: TagMove[]; written: string[] }> {
  const { input } = state;
  const run = validated(state);
  const tags = [input.tag, run.envTag];
  const moves: TagMove[] = [];
  const present = new Map<string, boolean>();
  for (const registry of run.targetRegistries) {
    const adapter = adapterOf(deps, registry);
    const repository = pathIn(adapter, input.repository);
    const has = (await adapter.oci.manifestHead(repository, run.digest)) !== undefined;
    present.set(registry, has);
    for (const tag of tags) {
      const previous = (await adapter.oci.manifestHead(repository, tag))?.digest;
      moves.push({ registry, repository, tag, ...(previous ? { previous } : {}), digestPresentBefore: has });
    }
  }
  await updateRecord(deps, input, () => ({ tagMoves: moves }));
  const written: string[] = [];
  for (const registry of run.targetRegistries) {
    if (!present.get(registry)) continue;
    const adapter = adapterOf(deps, registry);
    const mine = moves.filter((m) => m.registry === registry);
    try {
      for (const m of mine) {
        if (m.previous !== run.digest) await adapter.tagImage(m.repository, run.digest, m.tag);
        written.push(describeTag(m));
      }
    } catch (err) {
      await auditStep(deps, input, 'apply-tags', 'failure', { digest: run.digest, registry, tags, errorMessage: err instanceof Error ? err.message : String(err) });
      throw new PromotionError('TAGGING_FAILED', `tagging ${imageName(input, run.digest)} in ${registry} failed: ${err instanceof Error ? err.message : String(err)}`, { retryable: false, cause: err });
    }
    await auditStep(deps, input, 'apply-tags', 'success', { digest: run.digest, registry, tags, details: { previous: mine.map((m) => `${m.tag}=${m.previous ?? 'none'}`).join(', ') } });
  }
  await updateRecord(deps, input, (r) => ({ tagsWritten: [...new Set([...r.tagsWritten, ...written])] }), {
    step: 'apply-tags',
    outcome: 'success',
    message: written.length ? `tagged ${written.join(', ')}` : 'no target registry had the digest yet: Sync copies and tags it',
  });
  return { moves, written };
}

/**
 * Restores every tag the run planned (its `tagMoves`) to its previous digest; a tag that did not
 * exist before is removed. Distribution cannot delete a tag alone, so a created tag goes by deleting
 * the manifest, and only when the registry did not have the digest before the run (else it is left,
 * and the result says so).
 */
export async function rollbackTags(state: PromotionState, deps: PromotionDeps): Promise<RollbackResult> {
  const { input } = state;
  const record = await deps.store.getExecution(input.executionId);
  const moves = record?.tagMoves ?? state.tagging?.moves ?? [];
  const digest = record?.digest ?? state.run?.digest;
  // `autoRollback: false` on the edge: the operator decides (`regman rollback`); the tags stay as written.
  const edge = deps.config.promotion.find((e) => e.from === input.from && e.to === input.to);
  if (edge && !edge.autoRollback) return keepTags(state, deps, moves, digest);
  const restored: string[] = [];
  const removed: string[] = [];
  const left: { tag: string; why: string }[] = [];
  const deleted = new Set<string>();
  const errors: string[] = [];
  // Removals first: distribution removes a manifest with every tag whose history names it, so the
  // tags with a previous digest are restored after (and checked) rather than before.
  for (const m of moves) {
    if (m.previous) continue;
    const adapter = adapterOf(deps, m.registry);
    try {
      const now = (await adapter.oci.manifestHead(m.repository, m.tag))?.digest;
      if (now === undefined) {
        removed.push(describeTag(m));
      } else if (!m.digestPresentBefore && digest && now === digest) {
        const key = `${m.registry}/${m.repository}`;
        if (!deleted.has(key)) {
          await adapter.deleteImage(m.repository, digest);
          deleted.add(key);
        }
        removed.push(describeTag(m));
      } else {
        left.push({ tag: describeTag(m), why: now === digest ? 'the registry had the digest before this run and cannot remove a tag alone' : `it now points to ${now}, which this run did not write` });
      }
    } catch (err) {
      errors.push(`${describeTag(m)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const m of moves) {
    if (!m.previous) continue;
    const adapter = adapterOf(deps, m.registry);
    try {
      if ((await adapter.oci.manifestHead(m.repository, m.tag))?.digest !== m.previous) await adapter.tagImage(m.repository, m.previous, m.tag);
      const after = (await adapter.oci.manifestHead(m.repository, m.tag))?.digest;
      if (after !== m.previous) throw new Error(`it reads ${after ?? 'absent'} after the restore`);
      restored.push(`${describeTag(m)} → ${m.previous}`);
    } catch (err) {
      errors.push(`${describeTag(m)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const result: RollbackResult = { restored, removed, left };
  const cause = state.error?.Cause;
  await auditStep(deps, input, 'rollback', errors.length ? 'failure' : 'success', {
    ...(digest ? { digest } : {}),
    tags: moves.map((m) => m.tag),
    ...(errors.length ? { errorMessage: errors.join('; ') } : {}),
    details: { restored, removed, left: left.map((l) => `${l.tag}: ${l.why}`), ...(cause ? { cause: cause.slice(0, 500) } : {}) },
  });
  await updateRecord(deps, input, () => ({}), { step: 'rollback', outcome: errors.length ? 'failure' : 'success', message: `restored ${restored.length}, removed ${removed.length}, left ${left.length}` });
  if (errors.length) throw new PromotionError('TAGGING_FAILED', `rollback of ${imageName(input, digest)} could not restore: ${errors.join('; ')}`, { retryable: true });
  return result;
}

/** The Rollback step of an edge with `autoRollback: false`: audited as skipped, nothing restored, every moved tag listed as left. */
async function keepTags(state: PromotionState, deps: PromotionDeps, moves: readonly TagMove[], digest: string | undefined): Promise<RollbackResult> {
  const { input } = state;
  const why = `autoRollback is false on the edge ${input.from} → ${input.to}: restore with regman rollback --env ${input.to} --repository ${input.repository}`;
  const left = moves.map((m) => ({ tag: describeTag(m), why }));
  const cause = state.error?.Cause;
  await auditStep(deps, input, 'rollback', 'skipped', {
    ...(digest ? { digest } : {}),
    tags: moves.map((m) => m.tag),
    details: { reason: why, left: left.map((l) => l.tag), ...(cause ? { cause: cause.slice(0, 500) } : {}) },
  });
  await updateRecord(deps, input, () => ({}), { step: 'rollback', outcome: 'skipped', message: `autoRollback: false, left ${left.length} tags` });
  return { restored: [], removed: [], left, skipped: why };
}
