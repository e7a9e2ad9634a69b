// DynamoDB table definitions as plain data: the one source of truth for the CDK constructs and the local (dynalite) stack.
//
// Runtime code never imports aws-cdk-lib (see docs/DESIGN.md), so the specs here are plain objects; the CDK
// construct maps them to `dynamodb.Table` props and the local stack maps them with `toCreateTableInput`.
import type { AttributeDefinition, CreateTableCommandInput, GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';

/** DynamoDB scalar key types. */
export type KeyAttributeType = 'S' | 'N' | 'B';

/** One key attribute: its name and scalar type. */
export interface KeySpec {
  readonly name: string;
  readonly type: KeyAttributeType;
}

/** Which attributes a secondary index copies. */
export type ProjectionSpec =
  | { readonly type: 'ALL' }
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };

/** A global secondary index. */
export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly projection: ProjectionSpec;
}

/** A table, described independently of CDK and of the SDK. */
export interface TableSpec {
  /** Stable short name; physical names are `<prefix><logicalName>` locally, CDK-generated in AWS. */
  readonly logicalName: string;
  /** What the table holds (goes into docs and the CDK construct's comments). */
  readonly description: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly globalSecondaryIndexes: readonly IndexSpec[];
  /** Attribute holding an epoch-seconds expiry, when the table wants DynamoDB TTL. */
  readonly timeToLiveAttribute?: string;
  /** Whether the deployed table should have point-in-time recovery (the audit log must). */
  readonly pointInTimeRecovery: boolean;
  /** Whether the deployed table must survive `cdk destroy` (RemovalPolicy.RETAIN). */
  readonly retain: boolean;
  /** Non-key attributes the application writes, for documentation only (DynamoDB is schemaless). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Attribute and index names of the audit table, shared by the spec and `functions/audit/dynamo-store.ts`. */
export const AUDIT_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** `<time ISO>#<chain partition>#<zero-padded seq>`: sorts by time, unique, sparse-friendly. */
  timeKey: 'timeKey',
  repository: 'repository',
  actor: 'actor',
  action: 'action',
} as const;

export const AUDIT_INDEXES = {
  byRepositoryTime: 'byRepositoryTime',
  byActorTime: 'byActorTime',
  byActionTime: 'byActionTime',
} as const;

/** The hash-chained audit log (see docs/AUDIT.md for the key design and the access patterns). */
export const AUDIT_TABLE: TableSpec = {
  logicalName: 'audit',
  description: 'Hash-chained audit log: pk = chain partition, sk = zero-padded sequence number.',
  partitionKey: { name: AUDIT_KEYS.partitionKey, type: 'S' },
  sortKey: { name: AUDIT_KEYS.sortKey, type: 'S' },
  globalSecondaryIndexes: [
    {
      name: AUDIT_INDEXES.byRepositoryTime,
      partitionKey: { name: AUDIT_KEYS.repository, type: 'S' },
      sortKey: { name: AUDIT_KEYS.timeKey, type: 'S' },
      projection: { type: 'ALL' },
    },
    {
      name: AUDIT_INDEXES.byActorTime,
      partitionKey: { name: AUDIT_KEYS.actor, type: 'S' },
      sortKey: { name: AUDIT_KEYS.timeKey, type: 'S' },
      projection: { type: 'ALL' },
    },
    {
      name: AUDIT_INDEXES.byActionTime,
      partitionKey: { name: AUDIT_KEYS.action, type: 'S' },
      sortKey: { name: AUDIT_KEYS.timeKey, type: 'S' },
      projection: { type: 'ALL' },
    },
  ],
  pointInTimeRecovery: true,
  retain: true,
};

/**
 * Powertools idempotency records, in the layout of its `DynamoDBPersistenceLayer` defaults
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/features/idempotency/#dynamodbpersistencelayer).
 */
export const IDEMPOTENCY_TABLE: TableSpec = {
  logicalName: 'idempotency',
  description: 'Powertools idempotency records: one item per event hash, expired by TTL.',
  partitionKey: { name: 'id', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expiration',
  pointInTimeRecovery: false,
  retain: false,
  attributes: {
    expiration: 'N: epoch seconds after which the record is ignored and deleted by TTL',
    status: 'S: INPROGRESS | COMPLETED | EXPIRED',
    data: 'S: the JSON-serialised handler result',
    in_progress_expiration: 'N: epoch milliseconds after which an INPROGRESS record may be taken over',
    validation: 'S: optional payload hash (payloadValidationJmesPath)',
  },
};

/**
 * Replication bookkeeping: generic pk/sk layout. Today it holds the newest event applied per (target,
 * repository, tag) (`tag#` items) and the targets an event already finished (`done#` items). It does not
 * hold per-blob copy progress: a retried copy finds finished blobs with a HEAD at the target.
 */
export const REPLICATION_STATE_TABLE: TableSpec = {
  logicalName: 'replication-state',
  description: 'Replication state: per-tag newest applied event (tag#), finished targets per event (done#), copies in flight (inflight) and blobs verified per image and target (blobs#) and Docker Hub pulls per credential and window (budget#), keyed by pk/sk strings.',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  retain: false,
  attributes: { expiresAt: 'N: optional epoch seconds; finished state expires by TTL' },
};

/**
 * Retention pull statistics: pulls per digest (or `tag:<tag>`) per UTC day from CloudTrail `BatchGetImage`
 * events (functions/retention/pull-stats.ts), plus `event#<eventID>` markers against duplicate deliveries.
 */
export const PULL_STATS_TABLE: TableSpec = {
  logicalName: 'pull-stats',
  description: 'Pull counters: pk = <registryId>/<region>/<repository>#<digest|tag:name>, sk = YYYY-MM-DD; pulls added atomically.',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  retain: false,
  attributes: {
    pulls: 'N: pulls counted that day (UpdateItem ADD)',
    expiresAt: 'N: epoch seconds; counters expire by TTL after about 400 days, event markers after 7',
  },
};

/**
 * Promotions (functions/promotion/store.ts): `exec#<executionId>` / `state` is one execution (status,
 * steps, gates, tags moved); `hist#<env>#<repository>` / `<time>#<executionId>` is the history of
 * digests promoted into an environment (rollback, soak, retention locks read it); `approval#<id>` /
 * `request` keeps the minimal approval requester's task token.
 */
export const PROMOTIONS_TABLE: TableSpec = {
  logicalName: 'promotions',
  description: 'Promotion executions, per-environment history of promoted digests, and pending approvals: pk/sk strings.',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
  pointInTimeRecovery: true,
  retain: true,
};

/** Quarantined digests: pk = `sha256:<hex>`; a failed scan or signature gate writes, `regman quarantine release` removes. */
export const QUARANTINE_TABLE: TableSpec = {
  logicalName: 'quarantine',
  description: 'Quarantined digests: pk = digest; reason, findings summary, time, execution id.',
  partitionKey: { name: 'pk', type: 'S' },
  globalSecondaryIndexes: [],
  pointInTimeRecovery: true,
  retain: true,
};

/** Holds: pk = `<env>#<repository>`; a held repository refuses promotions until `regman hold release`. */
export const HOLDS_TABLE: TableSpec = {
  logicalName: 'holds',
  description: 'Promotion holds: pk = <environment>#<repository>; reason, who, when, the digest it holds at.',
  partitionKey: { name: 'pk', type: 'S' },
  globalSecondaryIndexes: [],
  pointInTimeRecovery: true,
  retain: true,
};

/** Index of the approvals table over request items only (sparse: links and decisions carry no `state`). */
export const APPROVALS_INDEXES = { byStateCreated: 'byStateCreated' } as const;

/**
 * Approval requests (with the Step Functions task token, which never leaves the server), one link item per
 * approver, one decision item per approver, one delivery item per message (functions/approvals/dynamo-store.ts).
 */
export const APPROVALS_TABLE: TableSpec = {
  logicalName: 'approvals',
  description: 'Approvals: pk = request#<id> (sk request | decision#<identity> | delivery#<channel>#<to>) or link#<id> (sk link).',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      name: APPROVALS_INDEXES.byStateCreated,
      partitionKey: { name: 'state', type: 'S' },
      sortKey: { name: 'createdAt', type: 'S' },
      projection: { type: 'ALL' },
    },
  ],
  timeToLiveAttribute: 'ttl',
  pointInTimeRecovery: true,
  retain: false,
  attributes: {
    taskToken: 'S: the SendTaskSuccess/Failure token; read only by the approvals function',
    usedAt: 'S: on link items, when the link was used (set once, conditionally)',
    ttl: 'N: epoch seconds, 90 days after the expiry',
  },
};

/**
 * CI webhook deliveries (functions/webhooks/delivery-log.ts): pk = `<provider>#<delivery id>` (GitHub's
 * `X-GitHub-Delivery`, GitLab's `X-Gitlab-Event-UUID`). A conditional put claims a delivery once, so a
 * redelivered or replayed request never starts a second promotion.
 */
export const WEBHOOK_DELIVERIES_TABLE: TableSpec = {
  logicalName: 'webhook-deliveries',
  description: 'CI webhook deliveries seen: pk = <provider>#<delivery id>; status, the executions started, expiry.',
  partitionKey: { name: 'pk', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  retain: false,
  attributes: {
    status: 'S: received | started | failed (a failed delivery may be claimed again by a redelivery)',
    executions: 'L: the promotion execution ids the delivery started',
    expiresAt: 'N: epoch seconds; GitHub redelivers for up to 3 days, so records live 30 days',
  },
};

/** Every table of the product, keyed by a code-friendly name. */
export const TABLE_SPECS = {
  audit: AUDIT_TABLE,
  idempotency: IDEMPOTENCY_TABLE,
  replicationState: REPLICATION_STATE_TABLE,
  pullStats: PULL_STATS_TABLE,
  promotions: PROMOTIONS_TABLE,
  quarantine: QUARANTINE_TABLE,
  holds: HOLDS_TABLE,
  approvals: APPROVALS_TABLE,
  webhookDeliveries: WEBHOOK_DELIVERIES_TABLE,
} as const satisfies Record<string, TableSpec>;

export type TableKey = keyof typeof TABLE_SPECS;

/** Physical table names for a local stack: `<prefix><logicalName>` for each table. */
export function localTableNames(prefix = ''): Record<TableKey, string> {
  const out = {} as Record<TableKey, string>;
  for (const [key, spec] of Object.entries(TABLE_SPECS) as [TableKey, TableSpec][]) {
    out[key] = localTableName(spec, prefix);
  }
  return out;
}

/** `<prefix><logicalName>`, checked against DynamoDB's naming rules (3..255 of `[a-zA-Z0-9_.-]`). */
export function localTableName(spec: TableSpec, prefix = ''): string {
  const name = `${prefix}${spec.logicalName}`;
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) {
    throw new Error(`Invalid DynamoDB table name "${name}" (prefix "${prefix}"): use 3..255 of [a-zA-Z0-9_.-]`);
  }
  return name;
}

/** Provisioned capacity, for stores that cannot do on-demand (none known today; dynalite v4 accepts both). */
export interface ProvisionedThroughputOptions {
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
}

export interface CreateTableInputOptions {
  /** When set, the table and every index are PROVISIONED with this capacity; on-demand otherwise. */
  readonly provisionedThroughput?: ProvisionedThroughputOptions;
}

/**
 * Maps a spec to the SDK's CreateTable input (pure). TTL and point-in-time recovery are not part of
 * CreateTable: `createTables` applies TTL separately, the CDK construct sets both on the Table.
 *
 * @example
 * const input = toCreateTableInput(AUDIT_TABLE, 'regman-audit');
 * await client.send(new CreateTableCommand(input));
 */
export function toCreateTableInput(
  spec: TableSpec,
  tableName: string,
  options: CreateTableInputOptions = {},
): CreateTableCommandInput {
  const throughput = options.provisionedThroughput && {
    ReadCapacityUnits: options.provisionedThroughput.readCapacityUnits,
    WriteCapacityUnits: options.provisionedThroughput.writeCapacityUnits,
  };
  const input: CreateTableCommandInput = {
    TableName: tableName,
    AttributeDefinitions: attributeDefinitions(spec),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(throughput ? { BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput } : { BillingMode: 'PAY_PER_REQUEST' }),
  };
  if (spec.globalSecondaryIndexes.length > 0) {
    input.GlobalSecondaryIndexes = spec.globalSecondaryIndexes.map((index): GlobalSecondaryIndex => ({
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection:
        index.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.nonKeyAttributes] }
          : { ProjectionType: index.projection.type },
      ...(throughput ? { ProvisionedThroughput: throughput } : {}),
    }));
  }
  return input;
}

function keySchema(partitionKey: KeySpec, sortKey: KeySpec | undefined): CreateTableCommandInput['KeySchema'] {
  return sortKey
    ? [{ AttributeName: partitionKey.name, KeyType: 'HASH' }, { AttributeName: sortKey.name, KeyType: 'RANGE' }]
    : [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
}

/** Every key attribute of the table and its indexes, once each, in order of first use; a type clash is a spec bug. */
function attributeDefinitions(spec: TableSpec): AttributeDefinition[] {
  const keys: KeySpec[] = [spec.partitionKey];
  if (spec.sortKey) keys.push(spec.sortKey);
  for (const index of spec.globalSecondaryIndexes) {
    keys.push(index.partitionKey);
    if (index.sortKey) keys.push(index.sortKey);
  }
  const seen = new Map<string, KeyAttributeType>();
  const out: AttributeDefinition[] = [];
  for (const key of keys) {
    const known = seen.get(key.name);
    if (known === undefined) {
      seen.set(key.name, key.type);
      out.push({ AttributeName: key.name, AttributeType: key.type });
    } else if (known !== key.type) {
      throw new Error(`Table spec "${spec.logicalName}": key attribute "${key.name}" is both ${known} and ${key.type}`);
    }
  }
  return out;
}
