// The DynamoDB tables (audit log, idempotency records, replication state, promotions), built from functions/dynamo/tables.ts's TABLE_SPECS.
//
// The specs are the one source of truth shared with the local (dynalite) stack; this file only maps
// them to CDK. Physical names are CDK-generated; functions get them through BaseFunction.bind…Table.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_SPECS, type KeySpec, type TableSpec } from '../../functions/dynamo/tables.ts';
import { acknowledgeNag } from '../nag.ts';

const ATTRIBUTE_TYPES: Record<KeySpec['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function attribute(key: KeySpec): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

export interface TableOptions {
  /** Server-side encryption. @default DynamoDB's default (an AWS owned key) */
  readonly encryption?: dynamodb.TableEncryption;
}

/**
 * One on-demand table from a spec: keys, GSIs, TTL, point-in-time recovery, and RETAIN plus deletion
 * protection when the spec says the table must survive `cdk destroy`.
 *
 * @example
 * const audit = tableFromSpec(this, 'AuditTable', TABLE_SPECS.audit);
 */
export function tableFromSpec(scope: Construct, id: string, spec: TableSpec, options: TableOptions = {}): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    ...(options.encryption ? { encryption: options.encryption } : {}),
    partitionKey: attribute(spec.partitionKey),
    ...(spec.sortKey ? { sortKey: attribute(spec.sortKey) } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    ...(spec.timeToLiveAttribute ? { timeToLiveAttribute: spec.timeToLiveAttribute } : {}),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: spec.pointInTimeRecovery },
    removalPolicy: spec.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    deletionProtection: spec.retain,
  });
  for (const index of spec.globalSecondaryIndexes) {
    const projection = index.projection;
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      projectionType: dynamodb.ProjectionType[projection.type],
      ...(projection.type === 'INCLUDE' ? { nonKeyAttributes: [...projection.nonKeyAttributes] } : {}),
    });
  }
  if (!spec.pointInTimeRecovery) {
    acknowledgeNag(
      table,
      'AwsSolutions-DDB3',
      `Table "${spec.logicalName}" holds short-lived, TTL-expired records (${spec.description}); a restore would bring back ` +
        'only stale work items, and the spec (functions/dynamo/tables.ts) turns point-in-time recovery off on purpose.',
    );
  }
  return table;
}

/**
 * The pull statistics spec (CloudTrail BatchGetImage counts per digest per day), or undefined while
 * functions/dynamo/tables.ts does not define `pullStats` yet (it is written alongside the retention
 * handlers; read by key so that this file compiles either way).
 */
export function pullStatsSpec(): TableSpec | undefined {
  return (TABLE_SPECS as Readonly<Record<string, TableSpec | undefined>>).pullStats;
}

/** Every table of TABLE_SPECS. */
export class RegistryTables extends Construct {
  readonly audit: dynamodb.Table;
  readonly idempotency: dynamodb.Table;
  readonly replicationState: dynamodb.Table;
  /**
   * Promotion executions and history, quarantined digests, holds (functions/promotion/store.ts): kept on
   * `cdk destroy`, point-in-time recovery, encrypted with the AWS managed key (its use shows in CloudTrail).
   */
  readonly promotions: dynamodb.Table;
  readonly quarantine: dynamodb.Table;
  readonly holds: dynamodb.Table;
  /** Undefined when TABLE_SPECS has no `pullStats` (see pullStatsSpec). */
  readonly pullStats?: { readonly table: dynamodb.Table; readonly spec: TableSpec };
  /** Approval requests, links (single use), decisions and deliveries; the only place task tokens are kept (functions/approvals/dynamo-store.ts). */
  readonly approvals: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.audit = tableFromSpec(this, 'Audit', TABLE_SPECS.audit);
    this.idempotency = tableFromSpec(this, 'Idempotency', TABLE_SPECS.idempotency);
    this.replicationState = tableFromSpec(this, 'ReplicationState', TABLE_SPECS.replicationState);
    const encryption = dynamodb.TableEncryption.AWS_MANAGED;
    this.promotions = tableFromSpec(this, 'Promotions', TABLE_SPECS.promotions, { encryption });
    this.quarantine = tableFromSpec(this, 'Quarantine', TABLE_SPECS.quarantine, { encryption });
    this.holds = tableFromSpec(this, 'Holds', TABLE_SPECS.holds, { encryption });
    const pullStats = pullStatsSpec();
    if (pullStats) this.pullStats = { table: tableFromSpec(this, 'PullStats', pullStats), spec: pullStats };
    // Task tokens live here: the AWS managed key, like the promotion tables, so each use shows in CloudTrail.
    this.approvals = tableFromSpec(this, 'Approvals', TABLE_SPECS.approvals, { encryption });
  }
}
