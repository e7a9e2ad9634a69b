// CDK assertions on the audit anchors (Object Lock bucket, key secret, least-privilege function, schedule) and the operations dashboard, from one synth of the promotion fixture.
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditAnchors } from '../../lib/constructs/audit-anchors.ts';
import { DASHBOARD_METRICS } from '../../lib/constructs/dashboard.ts';
import { buildTestApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

let template: Template;
let anchorStatements: FlatStatement[];
beforeAll(async () => {
  ({ template } = await buildTestApp({ config: 'test/cdk/fixtures/promotion.yaml' }));
  anchorStatements = statementsOfRole(template, 'AuditAnchorsAnchorRole');
});

const idOf = (type: string, prefix: string): string => {
  const found = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.join(', ') || 'none'}`);
  return found[0]!;
};

describe('the audit anchor bucket', () => {
  it('has Object Lock with a COMPLIANCE default retention, versioning, encryption, no public access and access logs; it is retained', () => {
    const bucket = idOf('AWS::S3::Bucket', 'AuditAnchorsBucket');
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: { DestinationBucketName: { Ref: idOf('AWS::S3::Bucket', 'AuditAnchorsAccessLogs') }, LogFilePrefix: 'anchor-bucket/' },
      }),
    });
    // TLS only: a Deny on aws:SecureTransport false.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('is named in the outputs regman audit verify --anchor-bucket reads, with the key secret', () => {
    template.hasOutput('AuditAnchorBucketName', { Value: { Ref: idOf('AWS::S3::Bucket', 'AuditAnchorsBucket') } });
    template.hasOutput('AuditAnchorKeySecretArn', { Value: { Ref: idOf('AWS::SecretsManager::Secret', 'AuditAnchorsKeySecret') } });
  });
});

describe('the anchor function', () => {
  it('runs hourly from EventBridge Scheduler with its bucket, secret and table in the environment', () => {
    const fn = idOf('AWS::Lambda::Function', 'AuditAnchorsAnchorFunction');
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)', Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } }) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ AUDIT_ANCHOR_BUCKET: { Ref: idOf('AWS::S3::Bucket', 'AuditAnchorsBucket') }, AUDIT_ANCHOR_KEY_SECRET: Match.anyValue(), AUDIT_ANCHOR_RETAIN_DAYS: '400', AUDIT_TABLE: Match.anyValue() }) },
    });
  });

  it('may only Query the audit table, read its one secret, and write and read anchors under audit-anchors/', () => {
    const writes = resourcesAllowing(anchorStatements, 's3:PutObject');
    expect(writes).toEqual([expect.stringMatching(/AuditAnchorsBucket.*\/audit-anchors\/\*$/)]);
    expect(resourcesAllowing(anchorStatements, 's3:PutObjectRetention')).toEqual(writes);
    expect(anchorStatements.find((s) => s.actions.includes('s3:ListBucket'))?.resources).toEqual([expect.stringMatching(/^<AuditAnchorsBucket[0-9A-F]+\.Arn>$/)]);
    const dynamo = anchorStatements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap((s) => s.actions)).toEqual(['dynamodb:Query']);
    expect(resourcesAllowing(anchorStatements, 'secretsmanager:GetSecretValue')).toEqual([expect.stringMatching(/^<AuditAnchorsKeySecret/)]);
  });

  it('gets NO delete, no retention bypass, no write to the audit table, no other bucket', () => {
    const actions = anchorStatements.flatMap((s) => s.actions);
    for (const forbidden of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration', 's3:*', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(actions, forbidden).not.toContain(forbidden);
    }
    // The only statement on `*` is X-Ray's (no resource-level permissions there).
    for (const s of anchorStatements.filter((x) => x.resources.includes('*'))) expect(s.actions.every((a) => a.startsWith('xray:')), s.actions.join()).toBe(true);
  });
});

describe('the operations dashboard', () => {
  it('draws replication per target, DLQ depth, retention, promotions and the anchor age from the metrics the functions emit', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const name of Object.values(DASHBOARD_METRICS)) expect(body, name).toContain(`MetricName=\\\\\\"${name}\\\\\\"`);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    expect(body).toContain('ExecutionsSucceeded');
    template.hasOutput('DashboardName', Match.anyValue());
  });
});

describe('AuditAnchors props', () => {
  it('rejects a schedule that is not rate() or cron(), and a retention outside 1..36500 days', () => {
    const stack = new Stack(new App(), 'S');
    const auditTable = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const base = { auditTable, entry: 'x.ts', depsLockFilePath: 'package-lock.json', configFile: 'x.json', bundle: false };
    expect(() => new AuditAnchors(stack, 'A', { ...base, schedule: 'every hour' })).toThrow(/schedule "every hour" is not an EventBridge Scheduler/);
    expect(() => new AuditAnchors(stack, 'B', { ...base, retainDays: 0 })).toThrow(/retainDays 0 must be a whole number of days/);
  });
});
