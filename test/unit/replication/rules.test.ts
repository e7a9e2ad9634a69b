// Replication rule matching and event planning: pure table tests over small configs.
import { describe, expect, it } from 'vitest';
import type { RegmanConfig, ReplicationRule } from '../../../functions/config/types.ts';
import {
  UNTAGGED_REASON,
  matchReplicationTargets,
  planReplication,
  referrerTagSubject,
  selectReconcileTags,
  targetRepositoryName,
} from '../../../functions/replication/rules.ts';
import { findSourceRegistry } from '../../../functions/replication/source.ts';

const HEX = 'c'.repeat(64);

function rule(partial: Partial<ReplicationRule> & Pick<ReplicationRule, 'name' | 'targets'>): ReplicationRule {
  return { source: 'ecr', repositories: ['**'], tags: { include: ['*'], exclude: [] }, referrers: true, ...partial };
}

const config: Pick<RegmanConfig, 'replication'> = {
  replication: [
    rule({
      name: 'releases',
      repositories: ['team-a/**', '/^base\\/(alpine|debian)$/'],
      tags: { include: ['/^v\\d+(\\.\\d+)*$/', 'latest'], exclude: ['*-dirty'] },
      targets: [{ registry: 'gar' }, { registry: 'hub', repositoryPrefix: 'mirror' }],
    }),
    rule({
      name: 'base-to-hub',
      repositories: ['base/*'],
      tags: { include: ['*'], exclude: [] },
      targets: [{ registry: 'hub', rename: { match: '^base/(.*)$', replace: '$1' } }],
      platforms: ['linux/amd64'],
      referrers: false,
    }),
    rule({ name: 'other-source', source: 'acr', targets: [{ registry: 'gar' }] }),
  ],
};

describe('matchReplicationTargets', () => {
  it.each([
    ['a glob repository and a regex tag', 'team-a/app', 'v1.2', [['releases', 'gar', 'team-a/app'], ['releases', 'hub', 'mirror/team-a/app']]],
    ['a glob tag', 'team-a/app', 'latest', [['releases', 'gar', 'team-a/app'], ['releases', 'hub', 'mirror/team-a/app']]],
    ['an excluded tag', 'team-a/app', 'v1-dirty', []],
    ['a tag no include matches', 'team-a/app', 'feature-x', []],
    ['a repository no pattern matches', 'team-b/app', 'v1', []],
    ['`*` does not cross "/"', 'base/x/y', 'v1', []],
    ['two rules, a rename target', 'base/alpine', 'v3', [['releases', 'gar', 'base/alpine'], ['releases', 'hub', 'mirror/base/alpine'], ['base-to-hub', 'hub', 'alpine']]],
    ['only the second rule (regex repository pattern misses)', 'base/busybox', 'edge', [['base-to-hub', 'hub', 'busybox']]],
    ['no tag: repository patterns only', 'team-a/app', undefined, [['releases', 'gar', 'team-a/app'], ['releases', 'hub', 'mirror/team-a/app']]],
    ['a cosign tag under a referrers rule, whatever the tag filters', 'team-a/app', `sha256-${HEX}.sig`, [['releases', 'gar', 'team-a/app'], ['releases', 'hub', 'mirror/team-a/app']]],
  ])('%s', (_name, repository, tag, expected) => {
    // Act
    const matches = matchReplicationTargets(config, 'ecr', repository, tag);
    // Assess
    expect(matches.map((m) => [m.rule, m.targetRegistry, m.targetRepository])).toEqual(expected);
  });

  it('passes referrers and platforms through from the rule', () => {
    const [viaReleases, viaBase] = [matchReplicationTargets(config, 'ecr', 'base/alpine', 'v3')[0], matchReplicationTargets(config, 'ecr', 'base/alpine', 'v3')[2]];
    expect(viaReleases).toMatchObject({ referrers: true });
    expect(viaReleases?.platforms).toBeUndefined();
    expect(viaBase).toMatchObject({ referrers: false, platforms: ['linux/amd64'] });
  });

  it('matches rules of the given source only', () => {
    expect(matchReplicationTargets(config, 'acr', 'team-a/app', 'v1').map((m) => m.rule)).toEqual(['other-source']);
    expect(matchReplicationTargets(config, 'nowhere', 'team-a/app', 'v1')).toEqual([]);
  });

  it('lists a target reached twice under the same name once', () => {
    const twice = { replication: [rule({ name: 'a', targets: [{ registry: 'gar' }] }), rule({ name: 'b', targets: [{ registry: 'gar' }] })] };
    expect(matchReplicationTargets(twice, 'ecr', 'x', 'v1').map((m) => m.rule)).toEqual(['a']);
  });
});

describe('targetRepositoryName', () => {
  it.each([
    [{ registry: 'r' }, 'team/app', 'team/app'],
    [{ registry: 'r', repositoryPrefix: 'mirror' }, 'team/app', 'mirror/team/app'],
    [{ registry: 'r', repositoryPrefix: 'mirror/eu/' }, 'app', 'mirror/eu/app'],
    [{ registry: 'r', rename: { match: '^base/(.*)$', replace: 'lib/$1' } }, 'base/alpine', 'lib/alpine'],
    [{ registry: 'r', rename: { match: '/^BASE\\/(.*)$/i', replace: '$1' } }, 'base/alpine', 'alpine'],
    [{ registry: 'r', rename: { match: '^base/(.*)$', replace: '$1' } }, 'other/app', 'other/app'],
  ])('%j maps %s to %s', (target, repository, expected) => {
    expect(targetRepositoryName(target, repository)).toBe(expected);
  });
});

describe('planReplication', () => {
  const push = { actionType: 'PUSH', result: 'SUCCESS' } as const;

  it.each([
    ['a DELETE', { actionType: 'DELETE', result: 'SUCCESS', tag: 'v1' }, 'action-type DELETE is not replicated (only PUSH)'],
    ['a storage class change', { actionType: 'UPDATE_STORAGE_CLASS', result: 'SUCCESS' }, 'action-type UPDATE_STORAGE_CLASS is not replicated (only PUSH)'],
    ['a failed push', { actionType: 'PUSH', result: 'FAILURE', tag: 'v1' }, 'result FAILURE is not replicated (only SUCCESS)'],
    ['an untagged push (index child or referrer)', { ...push }, UNTAGGED_REASON],
    ['a tag no rule matches', { ...push, tag: 'feature-x' }, 'no rule (releases, base-to-hub) matches team-a/app:feature-x'],
  ])('skips %s with a reason', (_name, event, reason) => {
    expect(planReplication(config, 'ecr', event, 'team-a/app')).toEqual({ kind: 'skip', reason });
  });

  it('skips a source without rules, saying so', () => {
    expect(planReplication(config, 'gar', { ...push, tag: 'v1' }, 'x')).toEqual({ kind: 'skip', reason: 'no replication rule has source "gar"' });
  });

  it('replicates a matching tagged push to every target', () => {
    const plan = planReplication(config, 'ecr', { ...push, tag: 'v1' }, 'team-a/app');
    expect(plan.kind).toBe('replicate');
    if (plan.kind !== 'replicate') return;
    expect(plan.tag).toBe('v1');
    expect(plan.targets.map((t) => t.targetRegistry)).toEqual(['gar', 'hub']);
    expect(plan.referrerOf).toBeUndefined();
  });

  it('marks a referrer tag with its subject', () => {
    const plan = planReplication(config, 'ecr', { ...push, tag: `sha256-${HEX}` }, 'team-a/app');
    expect(plan).toMatchObject({ kind: 'replicate', referrerOf: `sha256:${HEX}` });
  });
});

describe('referrerTagSubject and selectReconcileTags', () => {
  it.each([
    [`sha256-${HEX}`, `sha256:${HEX}`],
    [`sha256-${HEX}.sig`, `sha256:${HEX}`],
    [`sha256-${HEX}.att`, `sha256:${HEX}`],
    [`sha256-${HEX}.sbom`, `sha256:${HEX}`],
    [`sha256-${HEX}.foo`, undefined],
    ['sha256-abc', undefined],
    ['v1', undefined],
  ])('%s → %s', (tag, subject) => {
    expect(referrerTagSubject(tag)).toBe(subject);
  });

  it('selects filtered tags and leaves referrer tags to their subjects', () => {
    const r = config.replication[0] as ReplicationRule;
    expect(selectReconcileTags(r, ['v1', 'v1-dirty', 'latest', 'dev', `sha256-${HEX}.sig`])).toEqual(['v1', 'latest']);
    const all = rule({ name: 'all', referrers: false, targets: [{ registry: 'gar' }] });
    expect(selectReconcileTags(all, ['v1', `sha256-${HEX}.sig`])).toEqual(['v1', `sha256-${HEX}.sig`]);
  });
});

describe('findSourceRegistry', () => {
  const registries = {
    registries: {
      'ecr-eu': { kind: 'ecr', accountId: '123456789012', region: 'eu-west-1', public: false },
      'ecr-us': { kind: 'ecr', accountId: '123456789012', region: 'us-east-1', public: false },
      oci: { kind: 'oci', url: 'http://127.0.0.1:5000', insecure: false, public: true },
    },
  } as unknown as Pick<RegmanConfig, 'registries'>;

  it('finds the ECR registry of the account and region', () => {
    expect(findSourceRegistry(registries, '123456789012', 'us-east-1')).toBe('ecr-us');
    expect(findSourceRegistry(registries, '123456789012', 'eu-west-1')).toBe('ecr-eu');
  });

  it('returns undefined for an unknown account or region', () => {
    expect(findSourceRegistry(registries, '999999999999', 'us-east-1')).toBeUndefined();
    expect(findSourceRegistry(registries, '123456789012', 'ap-south-1')).toBeUndefined();
  });
});
