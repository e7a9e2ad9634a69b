// The DeferralQueue on AWS: one execution of the replicate-deferred state machine per deferral, which Waits until `notBefore` and invokes replicate.
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { DeferralQueue, DeferredReplication } from './deferral.ts';

export { DEFERRAL_STATE_MACHINE_ENV } from './deferral.ts';

/** The execution input: the state machine Waits on `notBefore` (a timestamp: waits of hours cost nothing), then passes `work` to replicate. */
export interface DeferralExecutionInput {
  readonly notBefore: string;
  readonly work: DeferredReplication;
}

/**
 * An execution name per (event, deferral round): a duplicate delivery of the same deferral is the same
 * execution (Standard workflows' name idempotency), at most 80 characters of `[A-Za-z0-9_-]`.
 */
export function deferralExecutionName(work: Pick<DeferredReplication, 'correlationId' | 'deferrals' | 'targets'>): string {
  const hash = createHash('sha256').update(work.targets.join('\u0000')).digest('hex').slice(0, 8);
  const suffix = `-d${work.deferrals}-${hash}`;
  return `${work.correlationId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80 - suffix.length)}${suffix}`;
}

/**
 * Why a Step Functions Wait and not SQS: an SQS delay is at most 900 s, Docker Hub's window is six
 * hours; a Wait state waits for any time up to a year and costs two state transitions.
 *
 * @example
 * const deferrals = new SfnDeferralQueue({ client: new SFNClient({}), stateMachineArn: process.env[DEFERRAL_STATE_MACHINE_ENV]! });
 */
export class SfnDeferralQueue implements DeferralQueue {
  constructor(private readonly options: { readonly client: SFNClient; readonly stateMachineArn: string }) {}

  async defer(work: DeferredReplication, _delaySeconds: number): Promise<void> {
    const input: DeferralExecutionInput = { notBefore: work.notBefore, work };
    try {
      await this.options.client.send(new StartExecutionCommand({ stateMachineArn: this.options.stateMachineArn, name: deferralExecutionName(work), input: JSON.stringify(input) }));
    } catch (err) {
      // The same deferral queued twice (a duplicate delivery): already waiting.
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
  }
}
