// `regman rollback` against AWS: invokes the deployed rollback function (stack output PromotionRollbackFunctionName) and reads its answer.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { UsageError } from './run-cli.ts';

/** Env var with the deployed rollback function's name (the stack output PromotionRollbackFunctionName). */
export const PROMOTION_ROLLBACK_FUNCTION_ENV = 'REGMAN_PROMOTION_ROLLBACK_FUNCTION';

/** functions/handlers/promotion-rollback-environment.ts RollbackEnvironmentEvent. */
export interface AwsRollbackRequest {
  readonly environment: string;
  readonly repository: string;
  readonly to?: string;
  readonly reason: string;
  readonly actor: string;
  readonly onBehalfOf?: string;
}

/**
 * Invokes the function synchronously (RequestResponse): its result (`{ from, to, tags, hold }`), a
 * refusal as a UsageError with the function's message (nothing was tagged), or the function's error.
 *
 * @example
 * const result = await invokeRollback(new LambdaClient({}), 'RegistryManager-PromotionRollbackEnvironment…', request);
 */
export async function invokeRollback(lambda: Pick<LambdaClient, 'send'>, functionName: string, request: AwsRollbackRequest): Promise<Record<string, unknown>> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(request)) }));
  const text = out.Payload !== undefined ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError !== undefined) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { errorMessage?: string }).errorMessage ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`the rollback function ${functionName} failed (${out.FunctionError}): ${message}`);
  }
  let answer: { ok?: boolean; result?: Record<string, unknown>; error?: { code: string; message: string } };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new Error(`the rollback function ${functionName} answered something that is not JSON: ${text.slice(0, 120)}`);
  }
  if (answer.ok === true && answer.result) return answer.result;
  if (answer.ok === false && answer.error) throw new UsageError(`${answer.error.code}: ${answer.error.message}`);
  throw new Error(`the rollback function ${functionName} answered ${text.slice(0, 120)}; expected { ok, result | error }`);
}
