// Lambda entry of the replicate-large Record and RecordFailure steps: one `replicate` audit record per target.
import { readEnvironment } from '../env.ts';
import { recordLargeImage } from '../replication/large/record.ts';
import type { LargeImageState, LargeImageSummary } from '../replication/large/types.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createLargeImageStep, stepInput, type LargeImageDepsFactory, type LargeImageStepHandler, type LargeImageStepOptions } from './large-image-step.ts';

/**
 * The Record Task handler over a deps factory; the same function serves RecordFailure (the state then
 * carries `error` from the Catch).
 *
 * @example
 * const record = createLargeImageRecordHandler(() => deps);
 * await record(state); // { status: 'replicated', targets: [...] }
 */
export function createLargeImageRecordHandler(depsFactory: LargeImageDepsFactory, options?: LargeImageStepOptions): LargeImageStepHandler<LargeImageSummary> {
  return createLargeImageStep('Record', depsFactory, async (input, deps, logger) => {
    const state = stepInput<LargeImageState>(input, 'Record', ['executionName', 'sourceRegistry', 'repository', 'digest', 'tag', 'targets']);
    const summary = await recordLargeImage(state, deps);
    const log = summary.status === 'replicated' ? logger.info : logger.error;
    log.call(logger, `Large image ${summary.status}`, { digest: state.digest, tag: state.tag, execution: state.executionName, targets: summary.targets });
    return summary;
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/large-image-record.ts). */
export const handler = createLargeImageRecordHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
