// The local stack's promotions: runs statemachines/promotion.asl.json in process, stands in for task tokens, and answers the control API.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ApprovalDecision, TaskCompleter } from '../functions/approvals/requester.ts';
import { createPromotionTaskHandlers, type PromotionDepsFactory } from '../functions/handlers/promotion-tasks.ts';
import type { PromotionState } from '../functions/promotion/deps.ts';
import { loadRecord } from '../functions/promotion/deps.ts';
import type { PromotionInput, PromotionRecord } from '../functions/promotion/types.ts';
import { runStateMachine, type LocalExecutionResult, type LocalTaskHandler } from './step-functions.ts';

/** The promotion state machine, as the CDK stack deploys it. */
export const PROMOTION_ASL = fileURLToPath(new URL('../statemachines/promotion.asl.json', import.meta.url));

/** What the CLI (or a webhook) asks for; the runner adds the ids and the time. */
export type PromotionRequest = Omit<PromotionInput, 'executionId' | 'correlationId' | 'requestedAt'> & { readonly executionId?: string };

export interface LocalPromotions {
  /**
   * Starts an execution and resolves once Validate has decided (or the run ended): the record then
   * has the digest, or the refusal.
   */
  start(request: PromotionRequest): Promise<{ executionId: string; record: PromotionRecord }>;
  /** Waits for an execution to finish. */
  wait(executionId: string): Promise<LocalExecutionResult>;
  /** Completes a waiting RequestApproval (what SendTaskSuccess / SendTaskFailure do in AWS). */
  readonly completer: TaskCompleter;
  readonly executions: ReadonlyMap<string, Promise<LocalExecutionResult>>;
}

const WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSecondsPath?: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> };
}

/**
 * aws-local-stepfunctions has no task tokens: each `.waitForTaskToken` state becomes a plain Task on
 * its function's placeholder with the Payload (minus the token) as Parameters; the local handler
 * makes the token and waits for the completer. TimeoutSecondsPath still applies, but the library
 * reads it from the effective input (after Parameters) where Step Functions reads the state input, so
 * a `$.x` path becomes `$.state.x` under a Payload that passes the state as `state.$: $`.
 */
export function localizeTaskTokens(definition: { States: Record<string, unknown> }): void {
  for (const state of Object.values(definition.States) as AslState[]) {
    if (state.Type !== 'Task' || state.Resource !== WAIT_FOR_TOKEN) continue;
    const fn = state.Parameters?.FunctionName;
    if (!fn) throw new Error('a .waitForTaskToken state has no Parameters.FunctionName');
    const { 'taskToken.$': _token, ...payload } = state.Parameters?.Payload ?? {};
    state.Resource = fn;
    state.Parameters = payload as AslState['Parameters'];
    if (state.TimeoutSecondsPath?.startsWith('$.') && payload['state.$'] === '$') state.TimeoutSecondsPath = `$.state.${state.TimeoutSecondsPath.slice(2)}`;
  }
}

/**
 * @example
 * const promotions = createLocalPromotions({ deps: () => deps, retryIntervalMs: 0 });
 * const { executionId } = await promotions.start({ repository: 'app', tag: 'v1', from: 'dev', to: 'staging', requester: 'cli:me' });
 */
export function createLocalPromotions(options: { readonly deps: PromotionDepsFactory; readonly retryIntervalMs?: number; readonly log?: (line: string) => void }): LocalPromotions {
  const waiting = new Map<string, { resolve: (v: ApprovalDecision) => void; reject: (e: Error) => void }>();
  const handlers = createPromotionTaskHandlers(options.deps);
  const executions = new Map<string, Promise<LocalExecutionResult>>();
  const taskHandlers: Record<string, LocalTaskHandler> = {
    ...handlers,
    PromotionRequestApprovalFunctionArn: async (event) => {
      const taskToken = `local-${randomUUID()}`;
      const decided = new Promise<ApprovalDecision>((resolve, reject) => waiting.set(taskToken, { resolve, reject }));
      await handlers.PromotionRequestApprovalFunctionArn({ taskToken, state: (event as { state: PromotionState }).state });
      try {
        return await decided;
      } finally {
        waiting.delete(taskToken);
      }
    },
  };
  const completer: TaskCompleter = {
    async succeed(taskToken, output) {
      const w = waiting.get(taskToken);
      if (!w) throw new Error('no execution waits for this task token (it finished or timed out)');
      w.resolve(output);
    },
    async fail(taskToken, error, cause) {
      const w = waiting.get(taskToken);
      if (!w) throw new Error('no execution waits for this task token (it finished or timed out)');
      const err = new Error(cause);
      err.name = error;
      w.reject(err);
    },
  };
  return {
    completer,
    executions,
    async start(request) {
      const executionId = request.executionId ?? `promo-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
      if (executions.has(executionId)) throw new Error(`execution ${executionId} already exists`);
      const input: PromotionInput = { ...request, executionId, correlationId: randomUUID(), requestedAt: new Date().toISOString() };
      const deps = await options.deps();
      await deps.store.putExecution(await loadRecord(deps, input));
      let validated!: () => void;
      const pastValidate = new Promise<void>((resolve) => (validated = resolve));
      const run = runStateMachine(PROMOTION_ASL, input, taskHandlers, {
        transformDefinition: localizeTaskTokens,
        ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
        onStateEntered: (state) => {
          // RecordFailure right after Validate is a refusal being written: answer once it is.
          if (state !== 'Start' && state !== 'Validate' && state !== 'RecordFailure') validated();
        },
      }).then((result) => {
        options.log?.(`promotion ${executionId}: ${result.status}${result.error ? ` (${result.error})` : ''}`);
        return result;
      });
      executions.set(executionId, run);
      await Promise.race([pastValidate, run]);
      const record = (await deps.store.getExecution(executionId))!;
      return { executionId, record };
    },
    wait(executionId) {
      const run = executions.get(executionId);
      if (!run) return Promise.reject(new Error(`no local execution ${executionId}`));
      return run;
    },
  };
}
