// Fan-out of a large image: the starter interface (Step Functions in AWS, the local runner locally) and the execution input.
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { LargeImageInput, LargeImageTarget } from './types.ts';

export type * from './types.ts';

/** Starts the replicate-large state machine. */
export interface FanoutStarter {
  /**
   * Starts an execution named `input.executionName`. Starting the same name with the same input again
   * is not an error: it is the same execution (a duplicate event).
   */
  start(input: LargeImageInput): Promise<{ readonly executionName: string; readonly executionArn?: string }>;
}

/**
 * A Step Functions execution name for an image event: the event id (sanitised) and a hash of digest +
 * tag, at most 80 characters of `[A-Za-z0-9_-]`. The same event yields the same name, so Standard
 * workflows' name idempotency absorbs duplicate deliveries.
 *
 * @example largeImageExecutionName('7a3c…', 'sha256:ab…', 'v1') // '7a3c…-1f2e3d4c5b6a'
 */
export function largeImageExecutionName(correlationId: string, digest: string, tag: string): string {
  const hash = createHash('sha256').update(`${digest}\u0000${tag}`).digest('hex').slice(0, 12);
  const id = correlationId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80 - hash.length - 1);
  return `${id}-${hash}`;
}

/** The execution input of an image event going to `targets`. */
export function largeImageInput(options: {
  correlationId: string;
  actor: string;
  sourceRegistry: string;
  repository: string;
  digest: string;
  tag: string;
  eventTime?: string;
  targets: readonly LargeImageTarget[];
  now?: Date;
}): LargeImageInput {
  const { now, eventTime, ...rest } = options;
  return {
    ...rest,
    executionName: largeImageExecutionName(options.correlationId, options.digest, options.tag),
    ...(eventTime !== undefined ? { eventTime } : {}),
    startedAt: (now ?? new Date()).toISOString(),
  };
}

/**
 * Starts executions with `StartExecution`; `ExecutionAlreadyExists` (the same name with a different
 * input, e.g. a redelivered event with a new `startedAt`) counts as already started.
 *
 * @example
 * const starter = new SfnFanoutStarter({ client: new SFNClient({}), stateMachineArn: process.env.REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN! });
 */
export class SfnFanoutStarter implements FanoutStarter {
  constructor(private readonly options: { readonly client: SFNClient; readonly stateMachineArn: string }) {}

  async start(input: LargeImageInput): Promise<{ executionName: string; executionArn?: string }> {
    const { client, stateMachineArn } = this.options;
    try {
      const out = await client.send(new StartExecutionCommand({ stateMachineArn, name: input.executionName, input: JSON.stringify(input) }));
      return { executionName: input.executionName, ...(out.executionArn !== undefined ? { executionArn: out.executionArn } : {}) };
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists) {
        const arn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.executionName}`;
        return { executionName: input.executionName, executionArn: arn };
      }
      throw err;
    }
  }
}
