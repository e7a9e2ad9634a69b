// Lambda entry of `regman rollback` on AWS: moves an environment back to an earlier promoted digest and holds it (functions/promotion/rollback-env.ts).
import { randomUUID } from 'node:crypto';
import { readEnvironment } from '../env.ts';
import type { PromotionDeps } from '../promotion/deps.ts';
import { PromotionError, isPromotionError } from '../promotion/errors.ts';
import { rollbackEnvironment, type RollbackEnvironmentResult } from '../promotion/rollback-env.ts';
import { moduleDir } from './deps.ts';
import { memoizeRetrying } from './memoize.ts';
import { promotionDepsFromEnvironment } from './promotion-lambda.ts';

/** What the CLI sends (lambda:InvokeFunction, RequestResponse). */
export interface RollbackEnvironmentEvent {
  readonly environment: string;
  readonly repository: string;
  readonly to?: string;
  readonly reason: string;
  /** The caller's IAM principal (STS GetCallerIdentity), as the CLI resolved it. */
  readonly actor: string;
  /** `--requested-by`: the identity the principal acts for; recorded in the reason. */
  readonly onBehalfOf?: string;
  readonly correlationId?: string;
}

/** A refusal comes back as data (the CLI prints it); anything else is a function error. */
export type RollbackEnvironmentResponse =
  | { readonly ok: true; readonly result: RollbackEnvironmentResult }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

function parse(event: unknown): RollbackEnvironmentEvent {
  const o = (event ?? {}) as Record<string, unknown>;
  const missing = ['environment', 'repository', 'reason', 'actor'].filter((k) => typeof o[k] !== 'string' || (o[k] as string).trim() === '');
  if (missing.length > 0) throw new PromotionError('BAD_INPUT', `rollback: the request lacks ${missing.join(', ')}`);
  return o as unknown as RollbackEnvironmentEvent;
}

/**
 * @example
 * const rollback = createRollbackEnvironmentHandler(() => deps);
 * await rollback({ environment: 'prod', repository: 'team/app', reason: 'INC-7', actor: 'arn:aws:iam::1:user/alice' });
 */
export function createRollbackEnvironmentHandler(deps: () => Promise<PromotionDeps> | PromotionDeps): (event: unknown) => Promise<RollbackEnvironmentResponse> {
  const getDeps = memoizeRetrying(deps);
  return async (event) => {
    try {
      const e = parse(event);
      const result = await rollbackEnvironment(
        {
          environment: e.environment,
          repository: e.repository,
          ...(e.to ? { to: e.to } : {}),
          reason: e.onBehalfOf ? `${e.reason} (on behalf of ${e.onBehalfOf})` : e.reason,
          actor: e.actor,
          correlationId: e.correlationId ?? randomUUID(),
        },
        await getDeps(),
      );
      return { ok: true, result };
    } catch (err) {
      if (isPromotionError(err)) return { ok: false, error: { code: err.code, message: err.message } };
      throw err;
    }
  };
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = createRollbackEnvironmentHandler(() => promotionDepsFromEnvironment(env, HANDLER_DIR));
