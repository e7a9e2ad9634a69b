// The registry-manager stack: tables, the replication pipeline and its alarms, all derived from one validated config.
import { fileURLToPath } from 'node:url';
import { Annotations, CfnOutput, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RegmanConfig } from '../functions/config/index.ts';
import { writeBundledConfig } from './config-bundle.ts';
import { Observability } from './constructs/observability.ts';
import { Replication } from './constructs/replication.ts';
import { RegistryTables } from './constructs/tables.ts';
import { replicationAccess } from './replication-scopes.ts';

/** Handlers are referenced by path only: lib/ never imports runtime code (docs/DESIGN.md). */
const projectFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
export const HANDLER_ENTRIES = {
  replicate: projectFile('functions/handlers/replicate.ts'),
  reconcile: projectFile('functions/handlers/reconcile.ts'),
} as const;
export const DEPS_LOCK_FILE = projectFile('package-lock.json');

export interface RegistryManagerStackProps extends StackProps {
  /** The validated config (functions/config loadConfig); synth never reads a config that did not validate. */
  readonly config: RegmanConfig;
  /** Folder for the bundled config JSON. @default the app's cloud assembly folder (cdk.out) */
  readonly configDir?: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
  /** @see ReplicationProps.reconcileSchedule */
  readonly reconcileSchedule?: string;
  /** @see ObservabilityProps.alarmTopicArn */
  readonly alarmTopicArn?: string;
  /** Handler sources (tests point them elsewhere). @default HANDLER_ENTRIES */
  readonly entries?: { readonly replicate: string; readonly reconcile: string };
}

/**
 * Environment-agnostic (no account/region lookups): `cdk synth` runs offline, and the deploy
 * credentials pick the account and region.
 */
export class RegistryManagerStack extends Stack {
  readonly tables: RegistryTables;
  readonly replication: Replication;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: RegistryManagerStackProps) {
    super(scope, id, props);
    const access = replicationAccess(props.config);
    for (const name of access.localOnlyCredentials) {
      Annotations.of(this).addWarningV2(
        'regman:local-only-credentials',
        `Registry "${name}" is used by replication but its credentials (env / dockerConfig) exist only on a workstation; in Lambda use secretArn, secretName or iamRole.`,
      );
    }
    if (!access.pushEvents) {
      Annotations.of(this).addWarningV2(
        'regman:no-ecr-source',
        'No replication rule has an ECR source, so no push event can trigger replication; only the scheduled reconcile runs.',
      );
    }

    const configFile = writeBundledConfig(props.configDir ?? assemblyDir(this), this.stackName, props.config);
    this.tables = new RegistryTables(this, 'Tables');
    const entries = props.entries ?? HANDLER_ENTRIES;
    this.replication = new Replication(this, 'Replication', {
      access,
      tables: this.tables,
      configFile,
      replicateEntry: entries.replicate,
      reconcileEntry: entries.reconcile,
      depsLockFilePath: DEPS_LOCK_FILE,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      ...(props.reconcileSchedule !== undefined ? { reconcileSchedule: props.reconcileSchedule } : {}),
    });
    this.observability = new Observability(this, 'Observability', {
      replication: this.replication,
      ...(props.alarmTopicArn !== undefined ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    // What operators and `regman audit --table` need after a deploy (docs/OPERATIONS.md).
    const outputs: Record<string, [string, string]> = {
      AuditTableName: [this.tables.audit.tableName, 'The audit log table (regman audit query|verify)'],
      DeadLetterQueueUrl: [this.replication.deadLetterQueue.queueUrl, 'Push events that failed every retry'],
      ReplicateFunctionName: [this.replication.replicate.function.functionName, 'Replays a dead-lettered event'],
      ReconcileFunctionName: [this.replication.reconcile.function.functionName, 'Runs a reconcile on demand'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });
  }
}

function assemblyDir(scope: Construct): string {
  const stage = Stage.of(scope);
  if (!stage) throw new Error('RegistryManagerStack must be created inside an App (or pass configDir)');
  return stage.outdir;
}
