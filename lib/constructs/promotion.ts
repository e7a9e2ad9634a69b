// Promotion (issue 9): the promotion state machine from statemachines/promotion.asl.json, one least-privilege function per task, and `regman rollback`'s function.
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { PROMOTION_TABLES_ENV } from '../../functions/promotion/store.ts';
import { grantPromotionStepAccess, promotionStepSpendsPullBudget, type PromotionStep } from '../promotion-grants.ts';
import type { PromotionAccess } from '../promotion-scopes.ts';
import { BaseFunction } from './base-function.ts';
import type { RegistryTables } from './tables.ts';
import { Workflow } from './workflow.ts';

/** Handler sources, one per step (functions/handlers/promotion-*.ts). */
export type PromotionEntries = Readonly<Record<PromotionStep, string>>;

export interface PromotionProps {
  /** What the config's promotion edges touch (lib/promotion-scopes.ts). */
  readonly access: PromotionAccess;
  readonly tables: RegistryTables;
  /** The bundled config JSON (lib/config-bundle.ts). */
  readonly configFile: string;
  readonly entries: PromotionEntries;
  readonly depsLockFilePath: string;
  /** statemachines/promotion.asl.json (absolute path). */
  readonly definitionFile: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
}

/** Each ASL placeholder, the step whose function replaces it, and how that function is sized. */
const TASKS: readonly { readonly placeholder: string; readonly step: PromotionStep; readonly id: string; readonly description: string; readonly timeout: Duration }[] = [
  { placeholder: 'PromotionValidateFunctionArn', step: 'validate', id: 'Validate', description: 'Promotion: checks the edge, resolves the tag once, refuses quarantined, held, frozen or unsoaked digests', timeout: Duration.minutes(2) },
  { placeholder: 'PromotionScanGateFunctionArn', step: 'scanGate', id: 'ScanGate', description: 'Promotion: scan gate (referrer SARIF/Trivy report or ECR findings) against the edge\'s thresholds', timeout: Duration.minutes(15) },
  { placeholder: 'PromotionSignatureGateFunctionArn', step: 'signatureGate', id: 'SignatureGate', description: 'Promotion: signature gate (cosign .sig or sigstore bundle by a configured key)', timeout: Duration.minutes(15) },
  { placeholder: 'PromotionTestsGateFunctionArn', step: 'testsGate', id: 'TestsGate', description: 'Promotion: tests gate (test Lambda, CodeBuild project or HTTP hook)', timeout: Duration.minutes(15) },
  { placeholder: 'PromotionQuarantineFunctionArn', step: 'quarantine', id: 'Quarantine', description: 'Promotion: quarantines a digest that failed a scan or signature gate', timeout: Duration.minutes(1) },
  { placeholder: 'PromotionRequestApprovalFunctionArn', step: 'requestApproval', id: 'RequestApproval', description: 'Promotion: hands the approval task token to the approvals requester (the engine when bound, else the minimal one)', timeout: Duration.minutes(1) },
  { placeholder: 'PromotionApplyTagsFunctionArn', step: 'applyTags', id: 'ApplyTags', description: 'Promotion: records the target tags\' previous digests, then retags (no bytes moved)', timeout: Duration.minutes(5) },
  { placeholder: 'PromotionSyncFunctionArn', step: 'sync', id: 'Sync', description: 'Promotion: copies the digest with its referrers into one target registry', timeout: Duration.minutes(15) },
  { placeholder: 'PromotionRollbackFunctionArn', step: 'rollback', id: 'Rollback', description: 'Promotion: restores every tag a failed run moved', timeout: Duration.minutes(5) },
  { placeholder: 'PromotionRecordFunctionArn', step: 'record', id: 'Record', description: 'Promotion: writes the promotion record and history, audits promote.record', timeout: Duration.minutes(1) },
];

/**
 * The promotion workflow. `regman promote` (or a webhook) starts the state machine (StartExecution,
 * input functions/promotion/types.ts PromotionInput); every Task is its own function with only what its
 * step uses (lib/promotion-grants.ts); `regman rollback` invokes `rollbackEnvironment` directly.
 */
export class Promotion extends Construct {
  /**
   * Placeholder → function, as substituted into the definition. `PromotionRequestApprovalFunctionArn` is the
   * `.waitForTaskToken` target (invoked with `{ taskToken, state }`); lib/constructs/approvals.ts binds its
   * requester to it (bindRequester) and lets only its own function complete the task.
   */
  readonly functions: Readonly<Record<string, BaseFunction>>;
  readonly workflow: Workflow;
  /** `regman rollback --env E --repository R`: invoked by the CLI (RequestResponse). */
  readonly rollbackEnvironment: BaseFunction;

  constructor(scope: Construct, id: string, props: PromotionProps) {
    super(scope, id);
    const tables = { promotions: props.tables.promotions, quarantine: props.tables.quarantine, holds: props.tables.holds };
    const make = (fnId: string, step: PromotionStep, description: string, timeout: Duration): BaseFunction => {
      const fn = new BaseFunction(this, fnId, {
        configFile: props.configFile,
        depsLockFilePath: props.depsLockFilePath,
        entry: props.entries[step],
        description,
        serviceName: `promotion-${fnId.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase())}`,
        timeout,
        // Invoked synchronously by Step Functions (or the CLI), which retry per the ASL.
        retryAttempts: 0,
        ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      });
      fn.bindAuditTable(props.tables.audit);
      // The deps factory names all three tables; the grants below decide what the step may do on each.
      nameTables(fn, tables);
      grantPromotionStepAccess(fn.role, props.access, step, tables);
      // A step that GETs manifests from a Docker Hub registry with `rateLimit.pulls` spends from the pull budget
      // every invocation shares (`budget#` items of the state table), as replicate does; no other step gets it.
      if (promotionStepSpendsPullBudget(props.access, step)) fn.bindPullBudgetTable(props.tables.replicationState);
      return fn;
    };

    const functions: Record<string, BaseFunction> = {};
    for (const task of TASKS) {
      functions[task.placeholder] = make(task.id, task.step, task.description, task.timeout);
    }
    this.functions = functions;
    this.rollbackEnvironment = make('RollbackEnvironment', 'rollbackEnvironment', 'Promotion: regman rollback, back to an earlier promoted digest, and hold the repository', Duration.minutes(5));

    this.workflow = new Workflow(this, 'Workflow', {
      definitionFile: props.definitionFile,
      description: 'regman promotion of one digest: Validate, gates, approval, ApplyTags, Sync, Record; Rollback on failure (docs/PROMOTION_WORKFLOW.md)',
      functions,
      requireDefinition: props.bundle ?? true,
    });
  }
}

/** Sets PROMOTIONS_TABLE, QUARANTINE_TABLE and HOLDS_TABLE WITHOUT a grant (see grantPromotionStepAccess). */
function nameTables(fn: BaseFunction, tables: { readonly promotions: dynamodb.ITable; readonly quarantine: dynamodb.ITable; readonly holds: dynamodb.ITable }): void {
  for (const key of ['promotions', 'quarantine', 'holds'] as const) fn.function.addEnvironment(PROMOTION_TABLES_ENV[key], tables[key].tableName);
}
