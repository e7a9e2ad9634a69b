// Lambda entry of the replicate-large Plan step: the unique blobs and each target's manifests in push order.
import { readEnvironment } from '../env.ts';
import { planLargeImage } from '../replication/large/plan.ts';
import type { LargeImageInput, LargeImagePlan } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The Plan Task handler over a deps factory (the local stack passes its own).
 *
 * @example
 * const plan = createLargeImagePlanHandler(() => deps);
 * await plan(executionInput); // { blobs, targets, totalBytes }
 */
export function createLargeImagePlanHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<LargeImagePlan> {
  return createLargeImageStep('Plan', depsFactory, async (input, deps, logger) => {
    const state = stepInput<LargeImageInput>(input, 'Plan', ['sourceRegistry', 'repository', 'digest', 'tag', 'targets']);
    const plan = await planLargeImage(state, deps);
    logger.info('Large image planned', { digest: state.digest, blobs: plan.blobs.length, totalBytes: plan.totalBytes, targets: plan.targets.length });
    return plan;
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-plan.ts). */
export const handler = createLargeImagePlanHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
