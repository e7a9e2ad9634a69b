// Deferred replication: the replicate-deferred state machine (Wait for the rate budget, then replicate), and the replicate function's right to start it.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFERRAL_STATE_MACHINE_ENV } from '../../functions/replication/deferral.ts';
import type { BaseFunction } from './base-function.ts';
import { Workflow } from './workflow.ts';

export interface ReplicationDeferralProps {
  /** The replicate function: the state machine invokes it, and it starts the state machine. */
  readonly replicate: BaseFunction;
  /** Where deferred work that keeps failing goes (the replicate function's DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
  /** statemachines/replicate-deferred.asl.json */
  readonly definitionFile: string;
  /** @see WorkflowProps.requireDefinition @default true */
  readonly requireDefinition?: boolean;
}

/**
 * A target out of rate budget is deferred, not failed: replicate starts an execution that Waits until
 * the budget is back (Docker Hub: up to six hours, beyond SQS's 900 s delay) and invokes replicate with
 * the deferred work. The state machine has a fixed name so that replicate knows its ARN without a Ref
 * (the state machine already refers to replicate: a Ref back would be a cycle).
 *
 * @example
 * new ReplicationDeferral(this, 'Deferral', { replicate, deadLetterQueue, definitionFile: STATE_MACHINE_FILES.replicateDeferred });
 */
export class ReplicationDeferral extends Construct {
  readonly workflow: Workflow;
  readonly stateMachineArn: string;

  constructor(scope: Construct, id: string, props: ReplicationDeferralProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = `${stack.stackName}-replicate-deferred`.slice(0, 80);
    this.workflow = new Workflow(this, 'Workflow', {
      definitionFile: props.definitionFile,
      description: 'regman replicate-deferred: waits until a rate budget is back, then replicates the deferred targets (docs/OPERATIONS.md)',
      functions: { ReplicateFunctionArn: props.replicate },
      substitutions: { DeadLetterQueueUrl: props.deadLetterQueue.queueUrl },
      stateMachineName: name,
      ...(props.requireDefinition !== undefined ? { requireDefinition: props.requireDefinition } : {}),
    });
    // Work that keeps failing after its wait goes where the replicate function's failures go.
    props.deadLetterQueue.grantSendMessages(this.workflow.stateMachine.role);
    this.stateMachineArn = Arn.format({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
    props.replicate.function.addEnvironment(DEFERRAL_STATE_MACHINE_ENV, this.stateMachineArn);
    props.replicate.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }));
  }
}
