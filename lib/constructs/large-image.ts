// Large images (docs/LARGE_IMAGES.md): the four step functions and the replicate-large state machine that replicate starts.
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FANOUT_ENV } from '../../functions/replication/large/decision.ts';
import { grantLargeImageStepAccess, type LargeImageStep } from '../config-grants.ts';
import type { ReplicationAccess } from '../replication-scopes.ts';
import { BaseFunction } from './base-function.ts';
import type { RegistryTables } from './tables.ts';
import { Workflow } from './workflow.ts';

/** Handler source of each step (functions/handlers/large-image-*.ts). */
export type LargeImageEntries = Readonly<Record<LargeImageStep, string>>;

export interface LargeImageProps {
  /** What the config's replication rules touch (the same scopes as replicate). */
  readonly access: ReplicationAccess;
  readonly tables: RegistryTables;
  /** The bundled config JSON (lib/config-bundle.ts). */
  readonly configFile: string;
  readonly entries: LargeImageEntries;
  readonly depsLockFilePath: string;
  /** statemachines/replicate-large.asl.json (absolute path). */
  readonly definitionFile: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
}

/**
 * One step: its placeholder in the ASL, timeout (the ASL's TimeoutSeconds are just above these) and
 * whether it appends to the audit log.
 */
const STEPS: Record<LargeImageStep, { id: string; placeholder: string; timeout: Duration; description: string; audits: boolean }> = {
  plan: {
    id: 'Plan',
    placeholder: 'LargeImagePlanFunctionArn',
    timeout: Duration.minutes(5),
    description: 'Large image: lists the unique blobs and each target\'s manifests in push order',
    audits: false,
  },
  copyBlob: {
    id: 'CopyBlob',
    placeholder: 'LargeImageCopyBlobFunctionArn',
    timeout: Duration.minutes(15),
    description: 'Large image: copies one blob to each target that needs it (HEAD skip, mount, stream)',
    audits: false,
  },
  publish: {
    id: 'Publish',
    placeholder: 'LargeImagePublishFunctionArn',
    timeout: Duration.minutes(10),
    description: 'Large image: verifies every blob, then pushes the manifests and the tag last',
    audits: false,
  },
  record: {
    id: 'Record',
    placeholder: 'LargeImageRecordFunctionArn',
    timeout: Duration.minutes(1),
    description: 'Large image: one replicate audit record per target, outcome read from the target',
    audits: true,
  },
};

/** The ASL placeholder of each step, as docs/LARGE_IMAGES.md names them. */
export const LARGE_IMAGE_PLACEHOLDERS: Readonly<Record<LargeImageStep, string>> = Object.fromEntries(
  Object.entries(STEPS).map(([step, s]) => [step, s.placeholder]),
) as Record<LargeImageStep, string>;

/**
 * The replicate-large state machine and its four Task functions, each with exactly the rights its step
 * needs (LARGE_IMAGE_STEP_ACTIONS). Call `allowStartFrom(replicate)` to let the replicate function fan
 * out to it.
 *
 * @example
 * const large = new LargeImage(this, 'LargeImage', { access, tables, configFile, entries, depsLockFilePath, definitionFile });
 * large.allowStartFrom(replication.replicate);
 */
export class LargeImage extends Construct {
  readonly functions: Readonly<Record<LargeImageStep, BaseFunction>>;
  readonly workflow: Workflow;

  constructor(scope: Construct, id: string, props: LargeImageProps) {
    super(scope, id);
    const functions = {} as Record<LargeImageStep, BaseFunction>;
    for (const [step, spec] of Object.entries(STEPS) as [LargeImageStep, (typeof STEPS)[LargeImageStep]][]) {
      const fn = new BaseFunction(this, spec.id, {
        entry: props.entries[step],
        depsLockFilePath: props.depsLockFilePath,
        configFile: props.configFile,
        description: spec.description,
        serviceName: `large-image-${step === 'copyBlob' ? 'copy-blob' : step}`,
        timeout: spec.timeout,
        // Step Functions invokes synchronously and retries per the ASL; Lambda's async retries do not apply.
        retryAttempts: 0,
        ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      });
      // Every step builds the replication deps, which require AUDIT_TABLE; only Record appends to it.
      if (spec.audits) fn.bindAuditTable(props.tables.audit);
      else fn.nameAuditTable(props.tables.audit);
      // CopyBlob reads and writes the images' blob progress (resumable copies, docs/LARGE_IMAGES.md).
      if (step === 'copyBlob') fn.bindBlobProgressTable(props.tables.replicationState);
      // Plan and Publish GET manifests, which Docker Hub counts as pulls: they spend from the shared pull budget
      // (`budget#` items) like replicate and reconcile. CopyBlob reads blobs only, which Hub does not count.
      if (step === 'plan' || step === 'publish') fn.bindPullBudgetTable(props.tables.replicationState);
      grantLargeImageStepAccess(fn.role, props.access, step);
      functions[step] = fn;
    }
    this.functions = functions;

    this.workflow = new Workflow(this, 'Workflow', {
      definitionFile: props.definitionFile,
      description: 'regman replicate-large: one Map item per blob, manifests after every blob is verified, the tag last (docs/LARGE_IMAGES.md)',
      functions: Object.fromEntries((Object.keys(STEPS) as LargeImageStep[]).map((step) => [STEPS[step].placeholder, functions[step]])),
      requireDefinition: props.bundle ?? true,
    });
  }

  /**
   * Lets `fn` (the replicate function) start executions of this state machine and only this one, and
   * sets REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN (unset = never fan out).
   */
  allowStartFrom(fn: BaseFunction): void {
    fn.bindStateMachine(this.workflow.stateMachine, FANOUT_ENV.stateMachineArn);
  }
}
