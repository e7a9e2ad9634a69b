// CDK assertions on deferred replication: the replicate-deferred state machine, who may start it, what it may do, and no dependency cycle.
import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFERRAL_STATE_MACHINE_ENV } from '../../functions/replication/deferral.ts';
import { STATE_MACHINE_FILES } from '../../lib/registry-manager-stack.ts';
import { buildTestApp, resourcesAllowing, statementsOfRole } from './helpers.ts';

let template: Template;
beforeAll(async () => {
  ({ template } = await buildTestApp());
});

const only = (type: string, prefix: string): [string, { Properties: Record<string, unknown> }] => {
  const found = Object.entries(template.findResources(type)).filter(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  expect(found, `${type} ${prefix}*`).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown> }];
};

describe('the replicate-deferred state machine', () => {
  it('is the ASL file, with a fixed name, replicate and the DLQ substituted', () => {
    const [, sm] = only('AWS::StepFunctions::StateMachine', 'DeferralWorkflowStateMachine');
    const [replicateId] = only('AWS::Lambda::Function', 'ReplicationReplicateFunction');
    const [dlqId] = only('AWS::SQS::Queue', 'ReplicationDeadLetterQueue');
    expect(String(JSON.stringify(sm.Properties.StateMachineName))).toMatch(/replicate-deferred/);
    expect(sm.Properties.DefinitionSubstitutions).toEqual({ ReplicateFunctionArn: { 'Fn::GetAtt': [replicateId, 'Arn'] }, DeadLetterQueueUrl: { Ref: dlqId } });
    const asl = JSON.parse(readFileSync(STATE_MACHINE_FILES.replicateDeferred, 'utf8')) as { States: Record<string, { Type: string }> };
    expect(Object.values(asl.States).map((s) => s.Type)).toEqual(['Wait', 'Task', 'Task', 'Fail']);
  });

  it('may invoke replicate and send to the DLQ, nothing else', () => {
    const statements = statementsOfRole(template, 'DeferralWorkflowStateMachineRole');
    const [replicateId] = only('AWS::Lambda::Function', 'ReplicationReplicateFunction');
    const [dlqId] = only('AWS::SQS::Queue', 'ReplicationDeadLetterQueue');
    expect(resourcesAllowing(statements, 'lambda:InvokeFunction').sort()).toEqual([`<${replicateId}.Arn>`, `<${replicateId}.Arn>:*`]);
    expect(resourcesAllowing(statements, 'sqs:SendMessage')).toEqual([`<${dlqId}.Arn>`]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:') || a.startsWith('ecr:') || a.startsWith('states:'))).toEqual([]);
  });

  it('replicate knows it by ARN (no Ref: no cycle) and may start executions of it; reconcile may not', () => {
    const [, replicate] = only('AWS::Lambda::Function', 'ReplicationReplicateFunction');
    const variables = (replicate.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const arn = JSON.stringify(variables[DEFERRAL_STATE_MACHINE_ENV]);
    expect(arn).toMatch(/stateMachine:.*replicate-deferred/);
    expect(arn).not.toMatch(/"Ref":"DeferralWorkflowStateMachine/);
    const allowed = resourcesAllowing(statementsOfRole(template, 'ReplicationReplicateRole'), 'states:StartExecution');
    expect(allowed.filter((r) => r.includes('replicate-deferred'))).toHaveLength(1);
    expect(resourcesAllowing(statementsOfRole(template, 'ReplicationReconcileRole'), 'states:StartExecution')).toEqual([]);
  });
});
