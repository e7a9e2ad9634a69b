// Lambda entry of the replicate-large CopyBlob step (one Map item): one blob to each target that needs it.
import { readEnvironment } from '../env.ts';
import { copyOrDeferBlob } from '../replication/large/copy-blob.ts';
import type { CopyBlobInput, CopyBlobResult, DeferredStep } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The CopyBlob Task handler over a deps factory.
 *
 * @example
 * const copy = createLargeImageCopyBlobHandler(() => deps);
 * await copy({ correlationId, sourceRegistry, repository, targets, blob }); // { digest, outcomes: ['uploaded'] }, or { deferral }
 */
export function createLargeImageCopyBlobHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<CopyBlobResult | DeferredStep> {
  return createLargeImageStep('CopyBlob', depsFactory, async (input, deps, logger) => {
    const item = stepInput<CopyBlobInput>(input, 'CopyBlob', ['sourceRegistry', 'repository', 'targets', 'blob']);
    // Targets out of rate budget (a Docker Hub target's 429s): a deferral the item's WaitBeforeCopyBlob waits out.
    const result = await copyOrDeferBlob(item, deps);
    if ('deferral' in result) logger.warn('Blob deferred: out of rate budget', { digest: item.blob.digest, ...result.deferral });
    else logger.info('Blob copied', { digest: item.blob.digest, size: item.blob.size, outcomes: result.outcomes });
    return result;
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-copy-blob.ts). */
export const handler = createLargeImageCopyBlobHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
