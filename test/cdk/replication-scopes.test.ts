// Unit tests of lib/replication-scopes.ts: config patterns → IAM/EventBridge name scopes, and what replication may touch.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/index.ts';
import { normalizeScopes, replicationAccess, repositoryPatternScope, targetNameScopes, type NameScope } from '../../lib/replication-scopes.ts';
import { FIXTURE_CONFIG } from './helpers.ts';

describe('repositoryPatternScope', () => {
  it.each<[string, NameScope]>([
    ['team-a/*', { prefix: 'team-a/' }],
    ['team-b/**', { prefix: 'team-b/' }],
    ['**', { prefix: '' }],
    ['tools/builder', { exact: 'tools/builder' }],
    ['app-{a,b}', { prefix: 'app-' }],
    ['!secret/**', { prefix: '' }],
    ['/^base\\/(alpine|debian)$/', { prefix: 'base/' }],
    ['/^base\\/alpine$/', { exact: 'base/alpine' }],
    ['/^team-a\\/.+/', { prefix: 'team-a/' }],
    ['/^abc?d/', { prefix: 'ab' }],
    ['/^ab+c/', { prefix: 'ab' }],
    ['/^Team/i', { prefix: 'team' }],
    ['/team-a/', { prefix: '' }],
    ['/^a|b/', { prefix: '' }],
    ['/^(a|b)x/', { prefix: '' }],
    ['/^v1\\.2/', { prefix: 'v1.2' }],
  ])('%s → %j', (pattern, expected) => {
    // Act / Assess
    expect(repositoryPatternScope(pattern)).toEqual(expected);
  });
});

describe('targetNameScopes', () => {
  it('prepends a repositoryPrefix (one slash, whether or not the prefix ends with one)', () => {
    expect(targetNameScopes({ prefix: 'team-a/' }, { registry: 't', repositoryPrefix: 'mirror/' })).toEqual([{ prefix: 'mirror/team-a/' }]);
    expect(targetNameScopes({ exact: 'x' }, { registry: 't', repositoryPrefix: 'mirror' })).toEqual([{ exact: 'mirror/x' }]);
  });

  it('keeps the literal head of a rename replacement, and the source scope for names the regex does not match', () => {
    expect(targetNameScopes({ prefix: 'base/' }, { registry: 't', rename: { match: '^base/(.*)$', replace: 'lib/$1' } })).toEqual([
      { prefix: 'lib/' },
      { prefix: 'base/' },
    ]);
  });
});

describe('normalizeScopes', () => {
  it('drops duplicates and names covered by a broader prefix', () => {
    expect(normalizeScopes([{ prefix: 'team-' }, { prefix: 'team-a/' }, { exact: 'team-b' }, { exact: 'tools/x' }, { exact: 'tools/x' }])).toEqual([
      { prefix: 'team-' },
      { exact: 'tools/x' },
    ]);
  });
});

describe('replicationAccess', () => {
  it('derives sources, targets, secrets and roles from the replication rules only', async () => {
    // Prepare
    const config = await loadConfig(FIXTURE_CONFIG, { env: {} });

    // Act
    const access = replicationAccess(config);

    // Assess
    expect(access.sources).toEqual([
      { registry: 'ecr-main', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: 'base/' }, { prefix: 'team-a/' }, { exact: 'tools/builder' }] },
    ]);
    // ecr-dr is reached through its iamRole: no direct ECR grant, an sts:AssumeRole instead.
    expect(access.targets).toEqual([
      { registry: 'ecr-mirror', accountId: '111122223333', region: 'us-east-1', names: [{ prefix: 'mirror/team-a/' }, { exact: 'mirror/tools/builder' }] },
    ]);
    expect(access.roles).toEqual(['arn:aws:iam::444455556666:role/regman-replication']);
    // harbor's secret is named in the config, but no replication rule uses harbor.
    expect(access.secrets).toEqual([
      { registry: 'acr-prod', secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/acr-sp-AbCdEf' },
      { registry: 'dockerhub', secretName: 'regman/dockerhub' },
    ]);
    expect(access.usesOwnEcrIdentity).toBe(true);
    expect(access.pushEvents).toEqual({
      accounts: ['111122223333'],
      regions: ['eu-west-1'],
      repositoryNames: [{ prefix: 'base/' }, { prefix: 'team-a/' }, { exact: 'tools/builder' }],
    });
  });

  it('has no push filter when no rule has an ECR source (the local config)', async () => {
    // Prepare
    const config = await loadConfig('config/local.yaml', { env: {} });

    // Act
    const access = replicationAccess(config);

    // Assess
    expect(access.pushEvents).toBeUndefined();
    expect(access.sources).toEqual([]);
    expect(access.usesOwnEcrIdentity).toBe(false);
  });
});
