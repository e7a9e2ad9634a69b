// Validate: the edge exists, the tag resolves ONCE to a digest, and policy (quarantine, hold, freeze, upstream, soak) allows it.
import { PromotionError, isPromotionError } from './errors.ts';
import { adapterOf, auditStep, imageName, nowOf, pathIn, updateRecord, type PromotionDeps, type PromotionState } from './deps.ts';
import { decidePromotion, findEdge, renderEnvTag } from './policy.ts';
import type { PromotionHistoryEntry, ValidatedPromotion } from './types.ts';

/**
 * Resolves `input.tag` in the source environment's first registry and returns what the rest of the
 * run uses; throws a PromotionError (audited `promote.validate` rejected) when it must not go on.
 *
 * @example
 * const run = await validatePromotion({ input }, deps); // run.digest is what every later step promotes
 */
export async function validatePromotion(state: Pick<PromotionState, 'input'>, deps: PromotionDeps): Promise<ValidatedPromotion> {
  const { input } = state;
  // Known once the tag resolves: a run blocked after that (quarantine, hold, freeze, soak) is audited with it,
  // so the compliance report can list the blocked promotion of that digest (functions/reports/promotion-records.ts).
  let resolved: string | undefined;
  try {
    if (!input.repository || !input.tag || !input.from || !input.to) {
      throw new PromotionError('BAD_INPUT', 'a promotion needs repository, tag, from and to');
    }
    const edge = findEdge(deps.config, input.from, input.to);
    const fromEnv = deps.config.environments[input.from]!;
    const toEnv = deps.config.environments[input.to]!;
    const sourceRegistry = fromEnv.registries[0]!;
    const source = adapterOf(deps, sourceRegistry);
    let descriptor;
    try {
      descriptor = await source.oci.manifestHead(pathIn(source, input.repository), input.tag);
    } catch (err) {
      throw new PromotionError('TRANSIENT', `could not read ${imageName(input)} in ${sourceRegistry}: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
    }
    if (!descriptor) {
      throw new PromotionError('TAG_NOT_FOUND', `${imageName(input)} does not exist in ${sourceRegistry} (environment ${input.from}): push it, or check the tag with: regman images ${sourceRegistry} ${input.repository}`);
    }
    const digest = descriptor.digest;
    resolved = digest;
    const image = imageName(input, digest);
    const now = nowOf(deps);
    const historyEnvs = [...new Set([...edge.requires, edge.from])];
    const history: Record<string, PromotionHistoryEntry[]> = {};
    for (const env of historyEnvs) history[env] = await deps.store.history(env, input.repository);
    const [quarantine, hold] = await Promise.all([deps.store.getQuarantine(digest), deps.store.getHold(input.to, input.repository)]);
    const decision = decidePromotion({
      image,
      digest,
      to: input.to,
      edge,
      now,
      ...(quarantine ? { quarantine } : {}),
      ...(hold ? { hold } : {}),
      trigger: input.trigger ?? 'cli',
      freezeWindows: toEnv.freezeWindows ?? [],
      overrideFreeze: input.overrideFreeze === true,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      history,
    });
    const gates = edge.gates as Record<string, unknown>;
    const run: ValidatedPromotion = {
      digest,
      mediaType: descriptor.mediaType,
      sourceRegistry,
      targetRegistries: toEnv.registries,
      envTag: renderEnvTag(edge.envTagTemplate, { env: input.to, tag: input.tag, time: now }),
      gates: { scan: gates.scan !== undefined, signature: gates.signature !== undefined, tests: gates.tests !== undefined, approval: edge.gates.approval !== undefined },
      approvalTimeoutSeconds: Math.max(1, Math.round((edge.gates.approval?.expiresInHours ?? 24) * 3600)),
      freezeOverridden: decision.freezeOverridden,
    };
    await updateRecord(deps, input, () => ({ status: 'RUNNING', digest, envTag: run.envTag }), { step: 'validate', outcome: 'success', message: `${input.tag} resolved to ${digest}` });
    await auditStep(deps, input, 'validate', 'success', {
      digest,
      registry: sourceRegistry,
      tags: [input.tag],
      details: {
        freezeOverridden: decision.freezeOverridden,
        ...(decision.freezeWindow ? { freezeWindow: `${decision.freezeWindow.start}/${decision.freezeWindow.end}` } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
      },
    });
    return run;
  } catch (err) {
    if (isPromotionError(err) && !err.retryable) {
      await auditStep(deps, input, 'validate', 'rejected', { ...(resolved ? { digest: resolved } : {}), tags: [input.tag], errorCode: err.code, errorMessage: err.message });
    }
    throw err;
  }
}
