// The audit anchors (issue 11): an hourly Lambda that signs every chain head into an S3 bucket with Object Lock, so a deleted tail of the log shows.
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag, acknowledgeWildcardResources } from '../nag.ts';
import { BaseFunction } from './base-function.ts';

/** Hourly: a deleted tail is detectable back to the last hour. */
export const DEFAULT_ANCHOR_SCHEDULE = 'rate(1 hour)';
/** Days each anchor stays locked (S3AnchorSink's default): a year of audits plus slack. */
export const DEFAULT_ANCHOR_RETAIN_DAYS = 400;
/** The prefix S3AnchorSink writes under; the function may write nowhere else. */
const ANCHOR_PREFIX = 'audit-anchors/';

export interface AuditAnchorsProps {
  readonly auditTable: dynamodb.ITable;
  /** functions/handlers/audit-anchor.ts (tests point elsewhere). */
  readonly entry: string;
  readonly depsLockFilePath: string;
  readonly configFile: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
  /** EventBridge Scheduler `rate(...)` or `cron(...)`. @default DEFAULT_ANCHOR_SCHEDULE */
  readonly schedule?: string;
  /** COMPLIANCE-mode retention of each anchor, in days (1..36500). @default DEFAULT_ANCHOR_RETAIN_DAYS */
  readonly retainDays?: number;
}

/**
 * The anchor bucket (Object Lock in COMPLIANCE mode by default, versioned, encrypted, TLS only, no
 * public access, access-logged), the signing key's secret, the anchor function and its schedule.
 *
 * The function may: Query the audit table (the partition list and each chain's newest record; no
 * write), read the one secret, list the bucket under `audit-anchors/`, and get, put and set the
 * retention of objects there. Nothing can delete an anchor before its retention ends, not even root.
 */
export class AuditAnchors extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly keySecret: secretsmanager.Secret;
  readonly anchor: BaseFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: AuditAnchorsProps) {
    super(scope, id);
    const schedule = props.schedule ?? DEFAULT_ANCHOR_SCHEDULE;
    if (!/^(rate|cron)\(.+\)$/.test(schedule)) throw new Error(`AuditAnchors: schedule "${schedule}" is not an EventBridge Scheduler rate(...) or cron(...) expression`);
    const retainDays = props.retainDays ?? DEFAULT_ANCHOR_RETAIN_DAYS;
    if (!Number.isInteger(retainDays) || retainDays < 1 || retainDays > 36_500) throw new Error(`AuditAnchors: retainDays ${retainDays} must be a whole number of days from 1 to 36500`);

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ACLs off: S3 log delivery is then granted by bucket policy (logging.s3.amazonaws.com), not the legacy LogDeliveryWrite ACL.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(retainDays), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this.accessLogs,
      'AwsSolutions-S1',
      'This is the server access log bucket of the anchor bucket; logging its own access would log into itself (S3 recommends a separate target bucket without logging).',
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      // Also the bucket default: an object put without its own retention is locked all the same.
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retainDays)),
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Server access logs, delivered under a bucket policy rather than `serverAccessLogsBucket`, which
    // (without the serverAccessLogsUseBucketPolicy feature flag) would turn on the legacy LogDeliveryWrite ACL.
    const logPrefix = 'anchor-bucket/';
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: this.accessLogs.bucketName, logFilePrefix: logPrefix };
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogs',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogs.arnForObjects(`${logPrefix}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': this.bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.keySecret = new secretsmanager.Secret(this, 'KeySecret', {
      description: 'regman: Ed25519 private key (PKCS#8 PEM) that signs the audit anchors; put one once (docs/AUDIT.md#anchors)',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this.keySecret,
      'AwsSolutions-SMG4',
      'The anchor signing key is verified by auditors against the public key they hold; an automatic rotation would silently change that key. It is rotated by hand with a recorded re-key (docs/AUDIT.md#anchors).',
    );

    this.anchor = new BaseFunction(this, 'Anchor', {
      entry: props.entry,
      depsLockFilePath: props.depsLockFilePath,
      description: 'Signs every audit chain head into the Object Lock bucket (hourly)',
      serviceName: 'audit-anchor',
      configFile: props.configFile,
      timeout: Duration.minutes(5),
      memorySize: 512,
      retryAttempts: 0,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      environment: {
        AUDIT_ANCHOR_BUCKET: this.bucket.bucketName,
        AUDIT_ANCHOR_KEY_SECRET: this.keySecret.secretArn,
        AUDIT_ANCHOR_RETAIN_DAYS: String(retainDays),
      },
    });
    this.anchor.readAuditTable(props.auditTable);
    this.keySecret.grantRead(this.anchor.role);
    const objects = this.bucket.arnForObjects(`${ANCHOR_PREFIX}*`);
    this.anchor.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteAndReadAnchors',
        // PutObjectRetention: S3 requires it for a PUT that sets ObjectLockMode / RetainUntilDate.
        actions: ['s3:PutObject', 's3:PutObjectRetention', 's3:GetObject'],
        resources: [objects],
      }),
    );
    this.anchor.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListAnchors',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${ANCHOR_PREFIX}*`] } },
      }),
    );
    acknowledgeWildcardResources(this.anchor.role, [objects], 'The anchors are one object per run under audit-anchors/<time>.json; the function may read and write only that prefix.');

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invokes the audit anchor function',
    });
    acknowledgeWildcardResources(
      scheduleRole,
      [`${this.anchor.function.functionArn}:*`],
      "lambda:InvokeFunction on the anchor function's versions and aliases (`<arn>:*`), as Function.grantInvoke grants; no other function.",
    );
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Signs the audit chain heads into the Object Lock bucket',
      schedule: scheduler.ScheduleExpression.expression(schedule),
      target: new LambdaInvoke(this.anchor.function, { role: scheduleRole, retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
  }
}
