// Lambda entry of the replicate-large CopyBlob step (one Map item): one blob to each target that needs it.
import { readEnvironment } from '../env.ts';
import { copyPlannedBlob } from '../replication/large/copy-blob.ts';
import type { CopyBlobInput, CopyBlobResult } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The CopyBlob Task handler over a deps factory.
 *
 * @example
 * const copy = createLargeImageCopyBlobHandler(() => deps);
 * await copy({ correlationId, sourceRegistry, repository, targets, blob }); // { digest, outcomes: ['uploaded'] }
 */
export function createLargeImageCopyBlobHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<CopyBlobResult> {
  return createLargeImageStep('CopyBlob', depsFactory, async (input, deps, logger) => {
    const item = stepInput<CopyBlobInput>(input, 'CopyBlob', ['sourceRegistry', 'repository', 'targets', 'blob']);
    const result = await copyPlannedBlob(item, deps);
    logger.info('Blob copied', { digest: item.blob.digest, size: item.blob.size, outcomes: result.outcomes });
    return result;
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-copy-blob.ts). */
export const handler = createLargeImageCopyBlobHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
