// The promotion and retention deps factories hand the registry adapters Docker Hub's shared pull budget (DynamoPullBudget on
// STATE_TABLE) when the CDK stack set the variable, and no shared budget otherwise.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegmanConfig } from '../../../functions/config/types.ts';
import type { AdapterDeps } from '../../../functions/registries/deps.ts';

// The adapter factory is replaced by a recorder: this test is about what the handlers pass it, not about the adapters.
const calls: AdapterDeps[] = [];
vi.mock('../../../functions/registries/factory.ts', () => ({
  createAdapters: (_config: RegmanConfig, deps: AdapterDeps) => {
    calls.push(deps);
    return new Map();
  },
  closeAdapters: () => undefined,
}));

const { Environment } = await import('../../../functions/env.ts');
const { DynamoPullBudget } = await import('../../../functions/registries/shared-pull-budget.ts');
const { promotionDepsFromEnvironment } = await import('../../../functions/handlers/promotion-lambda.ts');
const { retentionDepsFromEnvironment } = await import('../../../functions/handlers/retention-sweep.ts');

const CONFIG = {
  version: 1,
  registries: {
    dev: { kind: 'oci', url: 'https://dev.example', public: true },
    hub: { kind: 'dockerhub', namespace: 'acme', credentials: { secretName: 'regman/dockerhub' }, rateLimit: { pulls: 200 } },
  },
  environments: { dev: { registries: ['dev'] }, staging: { registries: ['hub'] } },
  promotion: [{ from: 'dev', to: 'staging', gates: {} }],
  retention: [{ name: 'hub-untagged', registries: ['hub'], rules: { delete: { untagged: true } } }],
};

// What the CDK stack sets on a promotion step or the sweep; STATE_TABLE only where it granted the budget.
const BASE = {
  REGMAN_CONFIG_PATH: 'regman.config.json',
  AUDIT_TABLE: 'audit',
  PROMOTIONS_TABLE: 'promotions',
  QUARANTINE_TABLE: 'quarantine',
  HOLDS_TABLE: 'holds',
  AWS_REGION: 'eu-west-1',
};

const factories = [
  ['promotion', (env: InstanceType<typeof Environment>, dir: string) => promotionDepsFromEnvironment(env, dir)],
  ['retention sweep', (env: InstanceType<typeof Environment>, dir: string) => retentionDepsFromEnvironment(env, dir)],
] as const;

describe('the shared Docker Hub pull budget in the promotion and retention deps', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'regman-pull-budget-deps-'));
    writeFileSync(join(dir, 'regman.config.json'), JSON.stringify(CONFIG));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    calls.length = 0;
  });

  it.each(factories)('%s: STATE_TABLE set → the adapter factory gets a DynamoPullBudget on that table (and the secrets resolver)', async (_name, build) => {
    // Prepare
    const env = new Environment({ ...BASE, STATE_TABLE: 'regman-state' });

    // Act
    await build(env, dir);

    // Assess
    expect(calls).toHaveLength(1);
    const budget = calls[0]!.sharedPullBudget;
    expect(budget).toBeInstanceOf(DynamoPullBudget);
    expect((budget as unknown as { options: { tableName: string } }).options.tableName).toBe('regman-state');
    expect(calls[0]!.secrets).toBeDefined();
  });

  it.each(factories)('%s: no STATE_TABLE → no shared budget (the adapters budget in-process only)', async (_name, build) => {
    // Prepare
    const env = new Environment(BASE);

    // Act
    await build(env, dir);

    // Assess
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toHaveProperty('sharedPullBudget');
    expect(calls[0]!.secrets).toBeDefined();
  });
});
