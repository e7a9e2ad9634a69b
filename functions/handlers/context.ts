// The Lambda context the handlers rely on, and a stand-in for callers that are not Lambda (the local stack, tests).
import { randomUUID } from 'node:crypto';

/** The fields of the Lambda context the handlers and Powertools read. */
export interface LambdaContextLike {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

/** Budget a stand-in context reports: Lambda's maximum (15 minutes), counted from its creation. */
const LOCAL_BUDGET_MS = 15 * 60 * 1000;

/**
 * The given context when it is a Lambda one; otherwise a stand-in with a fresh request id and a
 * 15-minute budget (Powertools idempotency uses the remaining time to expire in-progress records).
 *
 * @example
 * await replicate(event, lambdaContext({ functionName: 'regman-local-replicate' }));
 */
export function lambdaContext(context?: Partial<LambdaContextLike> | null, functionName = 'regman-replicate'): LambdaContextLike {
  if (context && typeof context.getRemainingTimeInMillis === 'function' && typeof context.awsRequestId === 'string') return context as LambdaContextLike;
  return { ...standInContext(context?.functionName ?? functionName), ...context };
}

/**
 * A context for an invocation outside Lambda (the local stack's async invoker, tests): a fresh request
 * id, and a budget that runs out at `deadline` (epoch ms). @default deadline 15 minutes from now
 */
export function standInContext(name: string, deadline = Date.now() + LOCAL_BUDGET_MS): LambdaContextLike {
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
