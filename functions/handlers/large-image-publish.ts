// Lambda entry of the replicate-large PublishManifests step: verify blobs, push manifests, tag last.
import { readEnvironment } from '../env.ts';
import { publishManifests } from '../replication/large/publish.ts';
import type { DeferredStep, LargeImageState, PublishedTarget } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, orDefer, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The PublishManifests Task handler over a deps factory.
 *
 * @example
 * const publish = createLargeImagePublishHandler(() => deps);
 * await publish(state); // [{ target, digest, manifestsPushed, tagged: true }], or { deferral } when every failed target must wait
 */
export function createLargeImagePublishHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<PublishedTarget[] | DeferredStep> {
  return createLargeImageStep('Publish', depsFactory, async (input, deps, logger) => {
    const state = stepInput<LargeImageState>(input, 'PublishManifests', ['sourceRegistry', 'repository', 'tag', 'targets', 'plan']);
    // Every failed target out of rate budget (a Docker Hub target's 429s, the source's pulls): wait (WaitBeforePublish).
    return orDefer('PublishManifests', state.published, deps, logger, async () => {
      const published = await publishManifests(state, deps);
      logger.info('Manifests published', { digest: state.digest, tag: state.tag, targets: published.map((p) => p.target) });
      return published;
    });
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-publish.ts). */
export const handler = createLargeImagePublishHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
