// Lambda entry of the retention-sweep List step: every (registry, repository, policy) the config's retention section governs.
import { readEnvironment } from '../env.ts';
import type { SweepMode } from '../retention/sweep.ts';
import { listSweepItems, type SweepItem } from '../retention/sweep-targets.ts';
import type { LambdaContextLike } from './context.ts';
import { moduleDir } from './deps.ts';
import {
  RetentionStepError, memoizeDeps, retentionDepsFromEnvironment, wrapRetentionStep, type RetentionDepsFactory, type RetentionHandlerOptions,
} from './retention-sweep.ts';

/** The List step's input: the schedule's (or an operator's) execution input. */
export interface RetentionListInput {
  /** Only these registries. @default every registry a policy covers */
  readonly registries?: readonly string[];
  /** @default 'dry-run' */
  readonly mode?: SweepMode;
  readonly force?: boolean;
  /** Follows the sweep through every log line and audit record. @default the List invocation's request id */
  readonly correlationId?: string;
}

/** The List step's result: the Map's items, and the mode each item runs in. */
export interface RetentionListOutput {
  readonly items: readonly SweepItem[];
  readonly mode: SweepMode;
  readonly force: boolean;
  readonly correlationId: string;
}

/**
 * The List Task handler over a deps factory. Lists the repositories of every covered registry (one
 * listRepositories call each) and names the governing policy of each.
 *
 * @example
 * const list = createRetentionListHandler(() => deps);
 * await list({ mode: 'apply' }); // { items: [{ registry, repository, policy }], mode: 'apply', force: false }
 */
export function createRetentionListHandler(
  depsFactory: RetentionDepsFactory,
  options: RetentionHandlerOptions = {},
): (input: unknown, context?: Partial<LambdaContextLike> | null) => Promise<RetentionListOutput> {
  const getDeps = memoizeDeps(depsFactory);
  return wrapRetentionStep('retention-list', async (raw, logger, context) => {
    const input = (raw ?? {}) as RetentionListInput;
    const mode = input.mode ?? 'dry-run';
    if (mode !== 'dry-run' && mode !== 'apply') throw new RetentionStepError(`retention-list: mode must be dry-run or apply, got ${JSON.stringify(mode)}`, false);
    if (input.registries !== undefined && !Array.isArray(input.registries)) throw new RetentionStepError('retention-list: registries must be a list of names', false);
    const deps = await getDeps();
    const unknown = (input.registries ?? []).filter((r) => !deps.adapters.has(r));
    if (unknown.length > 0) throw new RetentionStepError(`retention-list: unknown registries ${unknown.join(', ')}`, false);
    const items = await listSweepItems(deps.config, {
      ...(input.registries ? { registries: input.registries } : {}),
      listRepositories: (registry) => deps.adapters.get(registry)!.listRepositories(),
    });
    logger.info('Retention sweep listed', { items: items.length, mode });
    return { items, mode, force: input.force === true, correlationId: typeof input.correlationId === 'string' ? input.correlationId : context.awsRequestId };
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/retention-list.ts). */
export const handler = createRetentionListHandler(() => retentionDepsFromEnvironment(env, HANDLER_DIR));
