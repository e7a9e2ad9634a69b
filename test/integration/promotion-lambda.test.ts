// The promotion Lambda handlers as deployed: deps from the environment the CDK stack sets (bundled config, dynalite tables), real registries; and regman rollback's function.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../functions/env.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler as taskHandler } from '../../functions/handlers/promotion-lambda.ts';
import { createRollbackEnvironmentHandler } from '../../functions/handlers/promotion-rollback-environment.ts';
import type { PromotionDeps, PromotionState } from '../../functions/promotion/deps.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import type { PromotionInput, ValidatedPromotion } from '../../functions/promotion/types.ts';
import { closeAdapters } from '../../functions/registries/factory.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const quiet = { logger: new Logger({ logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) };
const promotionTaskHandler = (task: Parameters<typeof taskHandler>[0], deps: Parameters<typeof taskHandler>[1]) => taskHandler(task, deps, quiet);

describe('promotion Lambda handlers (environment as the CDK stack sets it, dynalite, real registries)', () => {
  let dev: RunningRegistry;
  let stg: RunningRegistry;
  let db: DynaliteHandle;
  let dir: string;
  let store: DynamoPromotionStore;
  let v1: PushedImage;
  let v2: PushedImage;
  const built: PromotionDeps[] = [];
  const lambda = mockClient(LambdaClient);

  const input = (over: Partial<PromotionInput> = {}): PromotionInput => ({
    executionId: `promo-${Math.random().toString(36).slice(2, 10)}`,
    correlationId: 'corr-1',
    repository: 'app',
    tag: 'v1',
    from: 'dev',
    to: 'staging',
    requester: 'arn:aws:iam::111122223333:user/dana',
    requestedAt: new Date().toISOString(),
    ...over,
  });
  const deps = async () => {
    const env = new Environment({
      REGMAN_CONFIG_PATH: join(dir, 'regman.config.json'),
      AUDIT_TABLE: db.tableNames.audit,
      PROMOTIONS_TABLE: db.tableNames.promotions,
      QUARANTINE_TABLE: db.tableNames.quarantine,
      HOLDS_TABLE: db.tableNames.holds,
      REGMAN_DYNAMODB_ENDPOINT: db.endpoint,
      AWS_REGION: 'us-east-1',
    });
    const d = await promotionDepsFromEnvironment(env, dir);
    built.push(d);
    return d;
  };
  const tagAt = async (reg: RunningRegistry, tag: string) =>
    (await new RawRegistryClient(reg).request('HEAD', `/v2/app/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers['docker-content-digest'];

  beforeAll(async () => {
    [dev, stg, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
    v1 = await pushImage(dev, 'app', 'v1', { layers: [32] });
    v2 = await pushImage(stg, 'app', 'v2', { layers: [48] });
    await pushImage(stg, 'app', 'v1', { layers: [32] });
    store = new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames });
    dir = mkdtempSync(join(tmpdir(), 'regman-promotion-lambda-'));
    const config = {
      version: 1,
      registries: { dev: { kind: 'oci', url: dev.url, public: true }, stg: { kind: 'oci', url: stg.url, public: true } },
      environments: { dev: { registries: ['dev'] }, staging: { registries: ['stg'] } },
      promotion: [
        {
          from: 'dev',
          to: 'staging',
          gates: { scan: { maxFindings: { critical: 0 } }, tests: { lambda: 'smoke-tests', timeoutSeconds: 5 } },
        },
      ],
    };
    writeFileSync(join(dir, 'regman.config.json'), JSON.stringify(config));
  }, 120_000);

  afterEach(() => lambda.reset());
  afterAll(async () => {
    for (const d of built) closeAdapters(d.adapters.values());
    lambda.restore();
    await Promise.all([dev?.stop(), stg?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Validate resolves the tag once to its digest and writes the record to PROMOTIONS_TABLE', async () => {
    // Prepare
    const validate = promotionTaskHandler('PromotionValidateFunctionArn', deps);
    const state: PromotionState = { input: input() };

    // Act
    const run = (await validate(state)) as ValidatedPromotion;

    // Assess
    expect(run).toMatchObject({ digest: v1.digest, sourceRegistry: 'dev', targetRegistries: ['stg'], gates: { scan: true, tests: true, signature: false, approval: false } });
    expect(await store.getExecution(state.input.executionId)).toMatchObject({ digest: v1.digest, requester: 'arn:aws:iam::111122223333:user/dana' });
  });

  it('leaves with the error name the ASL matches and the code in the message (a tag that does not exist)', async () => {
    const validate = promotionTaskHandler('PromotionValidateFunctionArn', deps);
    await expect(validate({ input: input({ tag: 'nope' }) })).rejects.toMatchObject({ name: 'PromotionRefused', message: expect.stringMatching(/^\[TAG_NOT_FOUND\] /) });
  });

  it('runs the scan gate on the source registry (no report attached: fails, and says so) and the tests gate through Lambda Invoke', async () => {
    // Prepare
    const state0: PromotionState = { input: input() };
    const run = (await promotionTaskHandler('PromotionValidateFunctionArn', deps)(state0)) as ValidatedPromotion;
    const state: PromotionState = { ...state0, run };
    lambda.on(InvokeCommand, { FunctionName: 'smoke-tests' }).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ passed: true, url: 'https://ci.example/runs/7' })) as unknown as InvokeCommandOutput['Payload'] });

    // Act
    const scan = await promotionTaskHandler('PromotionScanGateFunctionArn', deps)({ gate: 'scan', state });
    const tests = await promotionTaskHandler('PromotionTestsGateFunctionArn', deps)({ gate: 'tests', state });

    // Assess
    expect(scan).toMatchObject({ gate: 'scan', passed: false, reason: expect.stringContaining(`no scan report attached to ${v1.digest}`) });
    expect(tests).toMatchObject({ gate: 'tests', passed: true, url: 'https://ci.example/runs/7' });
    const sent = JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString('utf8'));
    expect(sent).toEqual({ digest: v1.digest, repository: 'app', tag: 'v1', from: 'dev', to: 'staging' });
    expect((await store.getExecution(state.input.executionId))?.gates.map((g) => `${g.gate}:${g.passed}`)).toEqual(['scan:false', 'tests:true']);
  });

  it('refuses a gate function asked to run another gate (each gate has its own function and role)', async () => {
    const state: PromotionState = { input: input(), run: { digest: v1.digest } as ValidatedPromotion };
    await expect(promotionTaskHandler('PromotionScanGateFunctionArn', deps)({ gate: 'signature', state })).rejects.toMatchObject({ message: expect.stringMatching(/^\[BAD_INPUT\] the scan gate task got gate "signature"/) });
  });

  describe('regman rollback\'s function', () => {
    it('tags the earlier promoted digest back, holds the repository, and records the principal and whom it acts for', async () => {
      // Prepare: staging went v2 → v1 (v1 is the current digest, v2 the earlier one).
      for (const [image, tag, time] of [[v2, 'v2', '2026-01-01T00:00:00Z'], [v1, 'v1', '2026-02-01T00:00:00Z']] as const) {
        await store.addHistory({ environment: 'staging', repository: 'app', digest: image.digest, tag, time, executionId: `promo-${tag}`, requester: 'cli:rita', approvers: [], gates: [], kind: 'promote' });
      }
      const rollback = createRollbackEnvironmentHandler(deps);

      // Act
      const out = await rollback({ environment: 'staging', repository: 'app', reason: 'INC-42', actor: 'arn:aws:sts::111122223333:assumed-role/ops/alice', onBehalfOf: 'rita' });

      // Assess
      expect(out).toMatchObject({ ok: true, result: { from: v1.digest, to: v2.digest } });
      expect(await tagAt(stg, 'v2')).toBe(v2.digest);
      expect(await store.getHold('staging', 'app')).toMatchObject({ by: 'arn:aws:sts::111122223333:assumed-role/ops/alice', reason: 'rollback: INC-42 (on behalf of rita)', digest: v2.digest });
    });

    it('answers a refusal as data (unknown environment, missing fields), not as a function error', async () => {
      const rollback = createRollbackEnvironmentHandler(deps);
      expect(await rollback({ environment: 'qa', repository: 'app', reason: 'x', actor: 'arn:aws:iam::1:user/a' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ENVIRONMENT' } });
      expect(await rollback({ environment: 'staging', repository: 'app' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: 'rollback: the request lacks reason, actor' } });
    });
  });
});
