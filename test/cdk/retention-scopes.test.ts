// Unit tests of lib/retention-scopes.ts: retention policies → the registries, repositories, secrets and roles the sweep may touch.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/index.ts';
import { policyRegistries, policyRepositoryScopes, retentionAccess } from '../../lib/retention-scopes.ts';
import { RETENTION_CONFIG } from './helpers.ts';

describe('policyRegistries', () => {
  it('is the union of the named registries and the environments\' registries, and every registry without a scope', async () => {
    // Prepare
    const config = await loadConfig(RETENTION_CONFIG, { env: {} });

    // Act / Assess
    expect(policyRegistries(config, { environments: ['prod'] })).toEqual(['ecr-dr', 'ecr-main']);
    expect(policyRegistries(config, { environments: ['dev'], registries: ['harbor'] })).toEqual(['ecr-main', 'harbor']);
    expect(policyRegistries(config, {})).toEqual(Object.keys(config.registries).sort());
  });
});

describe('policyRepositoryScopes', () => {
  it('maps patterns to prefixes, and no pattern to every repository', () => {
    expect(policyRepositoryScopes({ repositories: ['team-a/**', '/^sandbox\\/.+/', 'team-a/app'] })).toEqual([{ prefix: 'sandbox/' }, { prefix: 'team-a/' }]);
    expect(policyRepositoryScopes({})).toEqual([{ prefix: '' }]);
  });
});

describe('retentionAccess', () => {
  it('covers exactly the registries the policies name, with their repository prefixes, secrets and roles', async () => {
    // Prepare
    const config = await loadConfig(RETENTION_CONFIG, { env: {} });

    // Act
    const access = retentionAccess(config);

    // Assess
    expect(access.registries).toEqual(['ecr-dr', 'ecr-main', 'harbor']);
    // ecr-dr is reached through its iamRole: no direct scope, the role instead.
    expect(access.ecr).toEqual([{ registry: 'ecr-main', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: 'sandbox/' }, { prefix: 'team-a/' }] }]);
    expect(access.roles).toEqual(['arn:aws:iam::444455556666:role/regman-retention']);
    // dockerhub's secret is in the config, but only replication uses dockerhub.
    expect(access.secrets).toEqual([{ registry: 'harbor', secretName: 'regman/harbor-robot' }]);
    // Nor its share of the pull budget.
    expect(access.pullBudget).toEqual([]);
  });

  it('covers nothing without retention policies', async () => {
    const config = await loadConfig('test/cdk/fixtures/replication.yaml', { env: {} });
    expect(retentionAccess(config)).toEqual({ registries: [], ecr: [], secrets: [], roles: [], localOnlyCredentials: [], pullBudget: [] });
  });
});
