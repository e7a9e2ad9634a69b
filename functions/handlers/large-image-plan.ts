// Lambda entry of the replicate-large Plan step: the unique blobs and each target's manifests in push order.
import { readEnvironment } from '../env.ts';
import { planLargeImage } from '../replication/large/plan.ts';
import type { DeferredStep, LargeImageInput, LargeImagePlan } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, orDefer, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The Plan Task handler over a deps factory (the local stack passes its own).
 *
 * @example
 * const plan = createLargeImagePlanHandler(() => deps);
 * await plan(executionInput); // { blobs, targets, totalBytes }, or { deferral } when the source is out of rate budget
 */
export function createLargeImagePlanHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<LargeImagePlan | DeferredStep> {
  return createLargeImageStep('Plan', depsFactory, async (input, deps, logger) => {
    const state = stepInput<LargeImageInput & { plan?: unknown }>(input, 'Plan', ['sourceRegistry', 'repository', 'digest', 'tag', 'targets']);
    // A Docker Hub source out of pulls: wait (the ASL's WaitBeforePlan) rather than burn Plan's retries.
    return orDefer('Plan', state.plan, deps, logger, async () => {
      const plan = await planLargeImage(state, deps);
      logger.info('Large image planned', { digest: state.digest, blobs: plan.blobs.length, totalBytes: plan.totalBytes, targets: plan.targets.length });
      return plan;
    });
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-plan.ts). */
export const handler = createLargeImagePlanHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
