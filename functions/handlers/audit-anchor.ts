// Lambda entry of the scheduled audit anchor: signs every chain head into the Object Lock bucket, and reports how old the previous anchor was.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3Client } from '@aws-sdk/client-s3';
import type { AnchorSink } from '../audit/anchor.ts';
import { writeAnchor } from '../audit/anchoring.ts';
import { S3AnchorSink } from '../audit/anchors/s3-sink.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { AuditError } from '../audit/errors.ts';
import { openDynamoAuditLog } from '../audit/index.ts';
import { ENV, readEnvironment, type Environment } from '../env.ts';
import { dynamoOptions } from './deps.ts';
import { memoizeRetrying } from './memoize.ts';
import { createPowertools, powertoolsLogger } from './observability.ts';
import type { LoggerLike } from '../replication/observability.ts';

/** The variables the anchor function reads (set by lib/constructs/audit-anchors.ts). */
export const ANCHOR_ENV = {
  bucket: 'AUDIT_ANCHOR_BUCKET',
  /** A Secrets Manager secret whose value is the Ed25519 private key (PKCS#8 PEM). */
  keySecret: 'AUDIT_ANCHOR_KEY_SECRET',
  retainDays: 'AUDIT_ANCHOR_RETAIN_DAYS',
} as const;

/** The dashboard's figures: seconds since the previous anchor when this one was written, and the heads signed. */
export const AnchorMetric = { age: 'AuditAnchorAge', heads: 'AuditAnchorHeads' } as const;

/** Where the two figures go (Powertools in Lambda, a recorder in tests). */
export interface AnchorMetrics {
  record(name: string, unit: 'Seconds' | 'Count', value: number): void;
}

export interface AnchorDeps {
  readonly log: AuditLog;
  readonly sink: AnchorSink;
  /** The private key PEM. */
  readonly privateKey: () => Promise<string>;
  readonly metrics: AnchorMetrics;
  readonly logger: LoggerLike;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface AnchorResult {
  readonly where: string;
  readonly heads: number;
  readonly digest: string;
  /** Seconds between the previous anchor and this one; null for the first. */
  readonly previousAgeSeconds: number | null;
}

/**
 * One scheduled run: reads the previous anchor (for its age), signs the current heads, writes them.
 *
 * @example
 * const anchor = createAnchorHandler(() => deps);
 * await anchor(); // { where: 's3://…/audit-anchors/2026-…json', heads: 42, … }
 */
export function createAnchorHandler(depsFactory: () => Promise<AnchorDeps> | AnchorDeps): () => Promise<AnchorResult> {
  const getDeps = memoizeRetrying(depsFactory);
  return async () => {
    const deps = await getDeps();
    const now = deps.now?.() ?? new Date();
    const previous = await deps.sink.latest();
    const { where, doc } = await writeAnchor(deps.log, deps.sink, await deps.privateKey(), now);
    const previousAgeSeconds = previous ? Math.round((now.getTime() - Date.parse(previous.time)) / 1000) : null;
    if (previousAgeSeconds !== null) deps.metrics.record(AnchorMetric.age, 'Seconds', previousAgeSeconds);
    deps.metrics.record(AnchorMetric.heads, 'Count', doc.heads.length);
    deps.logger.info('Audit heads anchored', { where, heads: doc.heads.length, digest: doc.digest, previousAgeSeconds });
    return { where, heads: doc.heads.length, digest: doc.digest, previousAgeSeconds };
  };
}

/** Reads the key from the secret once; a secret that holds no PEM private key fails with what to put there. */
export function secretKeyReader(client: Pick<SecretsManagerClient, 'send'>, secretId: string): () => Promise<string> {
  let cached: string | undefined;
  return async () => {
    if (cached !== undefined) return cached;
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const value = out.SecretString ?? '';
    if (!/-----BEGIN PRIVATE KEY-----/.test(value)) {
      throw new AuditError(
        `Audit anchor key secret ${secretId} holds no PEM private key. Put an Ed25519 key there once: ` +
          `openssl genpkey -algorithm ed25519 -out anchor.pem && aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://anchor.pem ` +
          '(keep `openssl pkey -in anchor.pem -pubout` for `regman audit verify --anchor-public-key`)',
        { code: 'AUDIT_ANCHOR_INVALID' },
      );
    }
    cached = value;
    return value;
  };
}

/** The deps from the environment: the audit table (Query only), the bucket, the key secret. */
export function anchorDepsFromEnvironment(env: Environment): AnchorDeps {
  const { logger, metrics } = createPowertools();
  const { log } = openDynamoAuditLog({ tableName: env.required(ENV.auditTable, 'the audit log table'), ...dynamoOptions(env) });
  const retainDays = Number(env.optional(ANCHOR_ENV.retainDays, '400'));
  const sink = new S3AnchorSink({ client: new S3Client({}), bucket: env.required(ANCHOR_ENV.bucket, 'the Object Lock bucket of the anchors'), retainDays });
  return {
    log,
    sink,
    privateKey: secretKeyReader(new SecretsManagerClient({}), env.required(ANCHOR_ENV.keySecret, 'the secret holding the anchor signing key')),
    // singleMetric: each figure is flushed as its own EMF document at once (the handler has no logMetrics middleware).
    metrics: { record: (name, unit, value) => metrics.singleMetric().addMetric(name, unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, value) },
    logger: powertoolsLogger(logger),
  };
}

const env = readEnvironment();

/** The Lambda handler (CDK entry functions/handlers/audit-anchor.ts), invoked by an EventBridge Scheduler schedule. */
export const handler = createAnchorHandler(() => anchorDepsFromEnvironment(env));
