// IAM of the replication functions: exactly the configured repositories, secrets and roles, and NOTHING else (negative tests).
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from '../../lib/config-grants.ts';
import { buildTestApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

const SOURCE = 'arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/';
const MIRROR = 'arn:<AWS::Partition>:ecr:us-east-1:111122223333:repository/';
const ACR_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/acr-sp-AbCdEf';
const DOCKERHUB_SECRET = 'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:regman/dockerhub-??????';

let template: Template;
let replicate: FlatStatement[];
let reconcile: FlatStatement[];
beforeAll(async () => {
  ({ template } = await buildTestApp());
  replicate = statementsOfRole(template, 'ReplicationReplicateRole');
  reconcile = statementsOfRole(template, 'ReplicationReconcileRole');
});

describe.each([
  ['replicate', () => replicate, ['cloudtrail:LookupEvents']],
  ['reconcile', () => reconcile, []],
])('the %s role', (_name, statements, extraOnStar) => {
  it('pulls from exactly the configured source repository prefixes', () => {
    const sources = [`${SOURCE}base/*`, `${SOURCE}team-a/*`, `${SOURCE}tools/builder`];
    for (const action of ECR_PULL_ACTIONS) {
      expect(resourcesAllowing(statements(), action)).toEqual(expect.arrayContaining(sources));
      expect(resourcesAllowing(statements(), action).filter((r) => r.startsWith(SOURCE)).sort()).toEqual(sources);
    }
    expect(resourcesAllowing(statements(), 'ecr:GetDownloadUrlForLayer').sort()).toEqual(sources);
  });

  it('pushes to exactly the configured target repositories, never to a source repository', () => {
    // BatchCheckLayerAvailability is also a read (blob HEAD) and so also allowed on the sources.
    for (const action of ECR_PUSH_ACTIONS.filter((a) => a !== 'ecr:BatchCheckLayerAvailability')) {
      const resources = resourcesAllowing(statements(), action);
      expect(resources).toEqual(expect.arrayContaining([`${MIRROR}mirror/team-a/*`, `${MIRROR}mirror/tools/builder`]));
      expect(resources.filter((r) => r.startsWith(SOURCE))).toEqual([]);
    }
    expect(resourcesAllowing(statements(), 'ecr:PutImage').sort()).toEqual([`${MIRROR}mirror/team-a/*`, `${MIRROR}mirror/tools/builder`]);
  });

  it('does not download blobs from the targets', () => {
    expect(resourcesAllowing(statements(), 'ecr:GetDownloadUrlForLayer').filter((r) => r.startsWith(MIRROR))).toEqual([]);
  });

  it('gets no direct ECR rights on a registry reached through its iamRole; assumes exactly that role', () => {
    const all = statements().flatMap((s) => s.resources);
    expect(all.filter((r) => r.includes(':444455556666:repository'))).toEqual([]);
    expect(resourcesAllowing(statements(), 'sts:AssumeRole')).toEqual(['arn:aws:iam::444455556666:role/regman-replication']);
  });

  it('reads exactly the secrets of the registries replication uses', () => {
    expect(resourcesAllowing(statements(), 'secretsmanager:GetSecretValue').sort()).toEqual([ACR_SECRET, DOCKERHUB_SECRET].sort());
  });

  it('does NOT read any secret by wildcard, nor a configured secret that replication does not use', () => {
    const secrets = resourcesAllowing(statements(), 'secretsmanager:GetSecretValue');
    expect(secrets).not.toContain('*');
    expect(secrets.filter((r) => r.endsWith(':secret:*') || r.endsWith('secret:regman/*'))).toEqual([]);
    expect(secrets.filter((r) => r.includes('harbor'))).toEqual([]);
    expect(statements().filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:') && a !== 'secretsmanager:GetSecretValue'))).toEqual([]);
  });

  it('has no wildcard action (no ecr:*, no *:*)', () => {
    const wildcardActions = statements().flatMap((s) => s.actions).filter((a) => a.includes('*'));
    expect(wildcardActions).toEqual([]);
  });

  it('allows "*" only for the actions that have no resource-level permission', () => {
    const onStar = statements().filter((s) => s.resources.includes('*')).flatMap((s) => s.actions).sort();
    // The replicate role also looks up who pushed (CloudTrail LookupEvents has no resource-level permission).
    expect(onStar).toEqual([...extraOnStar, 'ecr:GetAuthorizationToken', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('has no managed policy (log writes go to its own log group only)', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(resourcesAllowing(statements(), 'logs:PutLogEvents')).toHaveLength(1);
    expect(resourcesAllowing(statements(), 'logs:PutLogEvents')[0]).toMatch(/^<Replication(Replicate|Reconcile)LogGroup[0-9A-F]{8}\.Arn>$/);
  });
});

describe('the audit log', () => {
  it('can be appended to and queried, never scanned, updated or deleted, by the functions', () => {
    for (const statements of [replicate, reconcile]) {
      const audit = statements.filter((s) => s.resources.some((r) => /^<TablesAudit[0-9A-F]{8}\.Arn>$/.test(r)));
      expect(audit.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      // Its indexes by name: no `index/*` wildcard.
      expect(audit.flatMap((s) => s.resources).filter((r) => r.includes('/index/')).map((r) => r.split('/index/')[1]).sort()).toEqual([
        'byActionTime',
        'byActorTime',
        'byRepositoryTime',
      ]);
    }
  });
});

describe('reconcile only', () => {
  it('lists the source registry\'s repositories (to match patterns); replicate does not', () => {
    expect(resourcesAllowing(reconcile, 'ecr:DescribeRepositories')).toEqual([`${SOURCE}*`]);
    expect(resourcesAllowing(replicate, 'ecr:DescribeRepositories')).toEqual([]);
  });

  it('cannot touch the idempotency table', () => {
    expect(reconcile.flatMap((s) => s.resources).filter((r) => r.includes('TablesIdempotency'))).toEqual([]);
  });
});
