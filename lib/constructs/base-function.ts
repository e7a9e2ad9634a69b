// One Lambda function the house way: Node.js 22 on arm64, X-Ray, its own log group and role, esbuild bundle with the config.
import { existsSync, readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TABLE_SPECS, type TableSpec } from '../../functions/dynamo/tables.ts';
import { lambdaExternalModules } from '../bundle-externals.ts';
import { BUNDLED_CONFIG_FILE, LAMBDA_TASK_ROOT } from '../config-bundle.ts';
import { acknowledgeNag } from '../nag.ts';

export interface BaseFunctionProps {
  /** The handler's source file (absolute path), e.g. functions/handlers/replicate.ts; it exports `handler`. */
  readonly entry: string;
  /** Lockfile of the project the entry belongs to; its folder is the esbuild project root. */
  readonly depsLockFilePath: string;
  readonly description: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` of every log line and metric. */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE. @default 'RegistryManager' */
  readonly metricsNamespace?: string;
  /** The validated config JSON (see lib/config-bundle.ts), copied into the bundle as regman.config.json. */
  readonly configFile: string;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** Memory, and so CPU share (sha256 of streamed blobs is CPU-bound). @default 1024 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Bundle the entry with esbuild. `false` deploys a placeholder handler that throws: for unit tests
   * and structural synth (`-c regman:skipBundling=true`) that must not spend seconds in esbuild or
   * need the handler to exist. Never deploy a stack synthesized with `false`.
   * @default true
   */
  readonly bundle?: boolean;
  /** Extra environment variables. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Where asynchronous invocations go once Lambda's own retries are spent. @default none */
  readonly onFailure?: lambda.IDestination;
  /** Lambda's retries of a failed asynchronous invocation (0..2). @default 2 */
  readonly retryAttempts?: number;
  /** Oldest asynchronous event Lambda still processes. @default Duration.hours(6) */
  readonly maxEventAge?: Duration;
}

/** The placeholder code of an unbundled function: fails loudly if such a stack were ever deployed. */
const UNBUNDLED_HANDLER =
  "exports.handler = async () => { throw new Error('regman: synthesized with bundling skipped; redeploy without regman:skipBundling'); };";

/**
 * A Lambda function with the runtime, architecture, tracing, log group, role and bundling set once.
 * `bind…()` helpers grant access to a resource and set the variable the handler reads, together.
 *
 * @example
 * const replicate = new BaseFunction(this, 'Replicate', { entry, depsLockFilePath, description: 'Replicates pushes',
 *   serviceName: 'replicate', configFile });
 * replicate.bindAuditTable(tables.audit);
 */
export class BaseFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BaseFunctionProps) {
    super(scope, id);
    const bundle = props.bundle ?? true;
    if (bundle && !existsSync(props.entry)) {
      throw new Error(
        `BaseFunction ${this.node.path}: entry ${props.entry} does not exist; write the handler, or set bundle: false ` +
          '(-c regman:skipBundling=true) to synthesize without it',
      );
    }
    if (bundle && !existsSync(props.configFile)) {
      throw new Error(`BaseFunction ${this.node.path}: configFile ${props.configFile} does not exist; bundle: true copies it into the bundle`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    // An own role instead of the default one: AWSLambdaBasicExecutionRole would grant log writes to
    // every log group of the account; this role may write to this function's log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName}: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    acknowledgeNag(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (tracing: ACTIVE) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permission.',
    );

    const common: Omit<lambda.FunctionProps, 'code' | 'handler'> = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 1024,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'RegistryManager',
        REGMAN_CONFIG_PATH: `${LAMBDA_TASK_ROOT}/${BUNDLED_CONFIG_FILE}`,
        ...props.environment,
      },
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge: props.maxEventAge ?? Duration.hours(6),
      ...(props.onFailure ? { onFailure: props.onFailure } : {}),
    };

    this.function = bundle
      ? new NodejsFunction(this, 'Function', {
          ...common,
          entry: props.entry,
          handler: 'handler',
          depsLockFilePath: props.depsLockFilePath,
          bundling: {
            // Powertools 2 and middy 6 ship ESM; the banner gives bundled CommonJS dependencies a `require`.
            format: OutputFormat.ESM,
            target: 'node22',
            mainFields: ['module', 'main'],
            banner: "import { createRequire as regmanCreateRequire } from 'node:module'; const require = regmanCreateRequire(import.meta.url);",
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            // Bundle the AWS SDK too: the versions the tests ran, not whatever the runtime carries. Only
            // google-auth-library stays out, when the config names no GAR/GCR registry (lib/bundle-externals.ts);
            // ACR needs no SDK at all.
            externalModules: lambdaExternalModules(JSON.parse(readFileSync(props.configFile, 'utf8')) as Parameters<typeof lambdaExternalModules>[0]),
            // esbuild is a devDependency: never fall back to Docker.
            forceDockerBundling: false,
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (_inputDir: string, outputDir: string) => [`cp "${props.configFile}" "${outputDir}/${BUNDLED_CONFIG_FILE}"`],
            },
          },
        })
      : new lambda.Function(this, 'Function', { ...common, code: lambda.Code.fromInline(UNBUNDLED_HANDLER), handler: 'index.handler' });

    acknowledgeNag(
      this.function,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the product targets and tests (issue 4, esbuild target node22); move to a newer runtime deliberately, with the tests.',
    );
  }

  /**
   * Lets the function append to and read the hash-chained audit log (PutItem with a condition on the
   * sequence number, Query/GetItem for the chain head; no Scan, no Update, no Delete) and sets AUDIT_TABLE.
   */
  bindAuditTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.audit, 'AUDIT_TABLE', ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:GetItem']);
  }

  /** Reads the audit log only (Query: the partition list, chain heads, chains; no Scan, no write) and sets AUDIT_TABLE: the anchor function. */
  readAuditTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.audit, 'AUDIT_TABLE', ['dynamodb:Query']);
  }

  /** Powertools idempotency records (its DynamoDBPersistenceLayer's calls) and IDEMPOTENCY_TABLE. */
  /** Reads quarantine records by digest only (GetItem) and sets QUARANTINE_TABLE: replication rules with `protected: true`. */
  readQuarantineTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.quarantine, 'QUARANTINE_TABLE', ['dynamodb:GetItem']);
  }

  bindIdempotencyTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.idempotency, 'IDEMPOTENCY_TABLE', [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
  }

  /** Replication state (resumable copies, reconcile bookkeeping) and STATE_TABLE. */
  bindStateTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.replicationState, 'STATE_TABLE', [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      // Blob progress of resumable copies is written in batches.
      'dynamodb:BatchWriteItem',
    ]);
  }

  /** Only the blob progress of resumable copies (`blobs#` items: Query and BatchWriteItem) and STATE_TABLE: the large-image CopyBlob step. */
  bindBlobProgressTable(table: dynamodb.ITable): this {
    return this.bindTable(table, TABLE_SPECS.replicationState, 'STATE_TABLE', ['dynamodb:Query', 'dynamodb:BatchWriteItem']);
  }

  /**
   * Only the Docker Hub pull budget every invocation shares (`budget#` items: GetItem and the conditional
   * PutItem of functions/registries/shared-pull-budget.ts, on keys starting `budget#` and no other) and
   * STATE_TABLE: the large-image Plan and PublishManifests steps, which GET manifests (Hub's pulls), and the
   * promotion steps and retention sweep that pull from a Docker Hub registry with `rateLimit.pulls`.
   */
  bindPullBudgetTable(table: dynamodb.ITable): this {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } },
      }),
    );
    this.function.addEnvironment('STATE_TABLE', table.tableName);
    return this;
  }

  /**
   * Sets AUDIT_TABLE WITHOUT any grant: the handlers' deps factory requires the variable and opens the
   * audit log lazily, but a step that never appends (large-image plan, copy-blob, publish) gets no right on it.
   */
  nameAuditTable(table: dynamodb.ITable): this {
    this.function.addEnvironment('AUDIT_TABLE', table.tableName);
    return this;
  }

  /**
   * Pull counters per digest per day (functions/retention/pull-stats.ts) and PULL_STATS_TABLE:
   * `count` = UpdateItem (`ADD pulls`) plus PutItem for DynamoPullStatsStore.markEvent's conditional
   * `event#<id>` marker (a duplicate delivery is counted once); no read, no delete. `read` = Query/GetItem
   * only (the sweep's inventory).
   */
  bindPullStatsTable(table: dynamodb.ITable, spec: TableSpec, access: 'count' | 'read'): this {
    const actions = access === 'count' ? ['dynamodb:UpdateItem', 'dynamodb:PutItem'] : ['dynamodb:Query', 'dynamodb:GetItem'];
    return this.bindTable(table, spec, 'PULL_STATS_TABLE', actions);
  }

  /** states:StartExecution on that one state machine (no other, no execution ARN) and `variable` = its ARN. */
  bindStateMachine(stateMachine: sfn.IStateMachine, variable: string): this {
    stateMachine.grantStartExecution(this.role);
    this.function.addEnvironment(variable, stateMachine.stateMachineArn);
    return this;
  }

  /** Grants `actions` on the table and on each of its indexes BY NAME (no `index/*` wildcard), and sets `variable`. */
  private bindTable(table: dynamodb.ITable, spec: TableSpec, variable: string, actions: readonly string[]): this {
    const indexArns = spec.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.name}`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn, ...indexArns] }));
    this.function.addEnvironment(variable, table.tableName);
    return this;
  }
}
