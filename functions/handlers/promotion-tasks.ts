// The promotion state machine's Task handlers, keyed by the ASL placeholders: thin adapters from state input to the steps in functions/promotion/.
import { PromotionError, isPromotionError } from '../promotion/errors.ts';
import { requestApproval } from '../promotion/approval-step.ts';
import type { GateName, PromotionDeps, PromotionState } from '../promotion/deps.ts';
import { quarantineStep, runGateStep } from '../promotion/gate-step.ts';
import { recordPromotion } from '../promotion/record.ts';
import { syncRegistry } from '../promotion/sync-step.ts';
import { applyTags, rollbackTags } from '../promotion/tagging.ts';
import { PROMOTION_STATUSES, type PromotionStatus } from '../promotion/types.ts';
import { validatePromotion } from '../promotion/validate.ts';

export type PromotionDepsFactory = () => Promise<PromotionDeps> | PromotionDeps;
export type PromotionTaskHandler = (event: unknown) => Promise<unknown>;

/** The ASL's `${...}` placeholders, one Lambda each in AWS (one per gate, so only the scan gate's role may read ECR findings). */
export const PROMOTION_TASKS = [
  'PromotionValidateFunctionArn',
  'PromotionScanGateFunctionArn',
  'PromotionSignatureGateFunctionArn',
  'PromotionTestsGateFunctionArn',
  'PromotionQuarantineFunctionArn',
  'PromotionRequestApprovalFunctionArn',
  'PromotionApplyTagsFunctionArn',
  'PromotionSyncFunctionArn',
  'PromotionRollbackFunctionArn',
  'PromotionRecordFunctionArn',
] as const;
export type PromotionTask = (typeof PROMOTION_TASKS)[number];

/**
 * Errors leave with a name the ASL matches (RegmanRetryableError, PromotionRefused, PromotionFailed)
 * and a message starting with `[CODE]`, so the record step can say what failed.
 */
function named(err: unknown): Error {
  if (isPromotionError(err)) {
    const out = new Error(`[${err.code}] ${err.message}`, { cause: err });
    out.name = err.name;
    return out;
  }
  const retryable = (err as { retryable?: boolean } | undefined)?.retryable === true;
  const out = new Error(err instanceof Error ? err.message : String(err), { cause: err });
  out.name = retryable ? 'RegmanRetryableError' : 'PromotionFailed';
  return out;
}

const wrap = <T>(fn: (event: T, deps: PromotionDeps) => Promise<unknown>, deps: PromotionDepsFactory): PromotionTaskHandler =>
  async (event: unknown) => {
    try {
      return await fn(event as T, await deps());
    } catch (err) {
      throw named(err);
    }
  };

function statusOf(value: unknown): PromotionStatus {
  if (typeof value === 'string' && (PROMOTION_STATUSES as readonly string[]).includes(value)) return value as PromotionStatus;
  throw new PromotionError('BAD_INPUT', `Record got status ${JSON.stringify(value)}; expected one of ${PROMOTION_STATUSES.join(', ')}`);
}

/** The gate a gate function runs: its own; a state that asks another gate of it is a wiring bug. */
function gateOf(value: unknown, own: GateName): GateName {
  if (value === undefined || value === own) return own;
  throw new PromotionError('BAD_INPUT', `the ${own} gate task got gate ${JSON.stringify(value)}; each gate has its own function`);
}

const gateTask = (own: GateName, deps: PromotionDepsFactory): PromotionTaskHandler =>
  wrap<{ gate?: unknown; state: PromotionState }>((e, d) => runGateStep(gateOf(e.gate, own), e.state, d), deps);

/**
 * @example
 * const handlers = createPromotionTaskHandlers(() => deps);
 * await runStateMachine(PROMOTION_ASL, input, handlers);
 */
export function createPromotionTaskHandlers(deps: PromotionDepsFactory): Record<PromotionTask, PromotionTaskHandler> {
  return {
    PromotionValidateFunctionArn: wrap<PromotionState>((s, d) => validatePromotion(s, d), deps),
    PromotionScanGateFunctionArn: gateTask('scan', deps),
    PromotionSignatureGateFunctionArn: gateTask('signature', deps),
    PromotionTestsGateFunctionArn: gateTask('tests', deps),
    PromotionQuarantineFunctionArn: wrap<{ state: PromotionState }>((e, d) => quarantineStep(e.state, d), deps),
    PromotionRequestApprovalFunctionArn: wrap<{ taskToken: string; state: PromotionState }>((e, d) => requestApproval(e, d), deps),
    PromotionApplyTagsFunctionArn: wrap<PromotionState>((s, d) => applyTags(s, d), deps),
    PromotionSyncFunctionArn: wrap<{ registry: string; state: PromotionState }>((e, d) => syncRegistry(e, d), deps),
    PromotionRollbackFunctionArn: wrap<PromotionState>((s, d) => rollbackTags(s, d), deps),
    PromotionRecordFunctionArn: wrap<{ status: unknown; state: PromotionState }>((e, d) => recordPromotion(statusOf(e.status), e.state, d), deps),
  };
}
