// The promotion commands' AWS backend: promote starts the state machine and rollback invokes the rollback function, as the caller's IAM principal (aws-sdk-client-mock).
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROMOTION_ROLLBACK_FUNCTION_ENV } from '../../../bin/commands/aws-rollback.ts';
import { openPromotionBackend, type PromotionBackend } from '../../../bin/commands/promotion-backend.ts';
import { UsageError } from '../../../bin/commands/run-cli.ts';

const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Promotion';
const PRINCIPAL = 'arn:aws:sts::111122223333:assumed-role/release/alice';
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
const payload = (value: unknown) => Buffer.from(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];

describe('openPromotionBackend on AWS', () => {
  let backend: PromotionBackend;

  beforeAll(async () => {
    vi.stubEnv('PROMOTIONS_TABLE', 'promotions');
    vi.stubEnv('QUARANTINE_TABLE', 'quarantine');
    vi.stubEnv('HOLDS_TABLE', 'holds');
    vi.stubEnv('AUDIT_TABLE', 'audit');
    vi.stubEnv(PROMOTION_ROLLBACK_FUNCTION_ENV, 'RegistryManager-PromotionRollbackEnvironment');
    const identity = { callerArn: async () => PRINCIPAL };
    backend = await openPromotionBackend({ stateMachineArn: ARN, region: 'eu-west-1' }, { sfn: new SFNClient({}), lambda: new LambdaClient({}), identity });
  });
  afterEach(() => {
    sfn.reset();
    lambda.reset();
  });
  afterAll(() => {
    backend.close();
    sfn.restore();
    lambda.restore();
    vi.unstubAllEnvs();
  });

  it('starts the execution as the caller\'s IAM principal, and records --requested-by as whom it acts for', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x` });

    // Act
    const started = await backend.start({ repository: 'team/app', tag: 'v1', from: 'staging', to: 'prod', requestedBy: 'rita', reason: 'release 7' });
    await backend.start({ repository: 'team/app', tag: 'v2', from: 'staging', to: 'prod' });

    // Assess
    const [first, second] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({ stateMachineArn: ARN, name: started.executionId });
    expect(JSON.parse(first!.input!)).toMatchObject({ executionId: started.executionId, requester: PRINCIPAL, onBehalfOf: 'rita', reason: 'release 7', trigger: 'cli', repository: 'team/app', tag: 'v1' });
    expect(JSON.parse(second!.input!).requester).toBe(PRINCIPAL);
    expect(JSON.parse(second!.input!)).not.toHaveProperty('onBehalfOf');
    expect(started.status).toBe('RUNNING');
  });

  it('rolls back through the rollback function (RequestResponse) as the principal, and returns its result', async () => {
    // Prepare
    const result = { from: 'sha256:b', to: 'sha256:a', tags: ['ecr-prod/team/app:v1'], hold: { environment: 'prod' } };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ok: true, result }) });

    // Act
    const out = await backend.rollback({ env: 'prod', repository: 'team/app', reason: 'INC-9', requestedBy: 'rita' });

    // Assess
    expect(out).toEqual(result);
    const call = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ FunctionName: 'RegistryManager-PromotionRollbackEnvironment', InvocationType: 'RequestResponse' });
    expect(JSON.parse(Buffer.from(call.Payload as Uint8Array).toString('utf8'))).toEqual({ environment: 'prod', repository: 'team/app', reason: 'INC-9', actor: PRINCIPAL, onBehalfOf: 'rita' });
  });

  it('turns a refusal into a UsageError with the function\'s message, and a function error into an error naming the function', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payload({ ok: false, error: { code: 'NOT_FOUND', message: 'there is no earlier promoted digest to roll back to' } }) })
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'Task timed out after 300.00 seconds' }) });
    const refused = backend.rollback({ env: 'prod', repository: 'team/app', reason: 'x' });
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow('NOT_FOUND: there is no earlier promoted digest to roll back to');
    await expect(backend.rollback({ env: 'prod', repository: 'team/app', reason: 'x' })).rejects.toThrow(
      'the rollback function RegistryManager-PromotionRollbackEnvironment failed (Unhandled): Task timed out after 300.00 seconds',
    );
  });

  it('records hold and quarantine changes as the principal, with --as as whom it acts for', async () => {
    expect(await backend.actor('rita')).toEqual({ actor: PRINCIPAL, onBehalfOf: 'rita' });
    expect(await backend.actor()).toEqual({ actor: PRINCIPAL });
    expect(await backend.actor(PRINCIPAL)).toEqual({ actor: PRINCIPAL });
  });

  it('asks for the rollback function when its variable is not set', async () => {
    vi.stubEnv(PROMOTION_ROLLBACK_FUNCTION_ENV, '');
    const other = await openPromotionBackend({ stateMachineArn: ARN }, { sfn: new SFNClient({}), lambda: new LambdaClient({}), identity: { callerArn: async () => PRINCIPAL } });
    await expect(other.rollback({ env: 'prod', repository: 'team/app', reason: 'x' })).rejects.toThrow(`set ${PROMOTION_ROLLBACK_FUNCTION_ENV} to the deployed rollback function`);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    other.close();
    vi.stubEnv(PROMOTION_ROLLBACK_FUNCTION_ENV, 'RegistryManager-PromotionRollbackEnvironment');
  });
});
