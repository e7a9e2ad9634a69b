// Creates the tables from their specs on a local DynamoDB (dynalite) or any account: idempotent, waits until ACTIVE.
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isAwsError } from './client.ts';
import { localTableName, toCreateTableInput, type ProvisionedThroughputOptions, type TableSpec } from './tables.ts';

export interface CreateTablesOptions {
  /** Physical name = `<prefix><logicalName>` (default no prefix). */
  readonly prefix?: string;
  /** PROVISIONED capacity instead of on-demand (dynalite v4 accepts on-demand; kept for stores that do not). */
  readonly provisionedThroughput?: ProvisionedThroughputOptions;
  /** Poll DescribeTable until every table is ACTIVE (default true; dynalite keeps new tables CREATING for `createTableMs`). */
  readonly waitForActive?: boolean;
  /** Give up waiting after this many milliseconds (default 30 000). */
  readonly timeoutMs?: number;
}

export interface CreatedTable {
  readonly key: string;
  readonly tableName: string;
  /** False when the table already existed. */
  readonly created: boolean;
  /** Whether TTL was enabled on a newly created table (dynalite has no TTL: false there). */
  readonly timeToLive: boolean;
}

/**
 * Creates each table unless it exists (ResourceInUseException is success), enables TTL on new tables
 * where the store supports it, and waits until all are ACTIVE.
 *
 * @example
 * await createTables(client, TABLE_SPECS, { prefix: 'regman-' });
 */
export async function createTables(
  client: DynamoDBClient,
  specs: Readonly<Record<string, TableSpec>> | readonly TableSpec[],
  options: CreateTablesOptions = {},
): Promise<CreatedTable[]> {
  const entries: [string, TableSpec][] = Array.isArray(specs)
    ? (specs as readonly TableSpec[]).map((s) => [s.logicalName, s])
    : Object.entries(specs as Readonly<Record<string, TableSpec>>);
  const results: CreatedTable[] = [];
  for (const [key, spec] of entries) {
    const tableName = localTableName(spec, options.prefix);
    const input = toCreateTableInput(spec, tableName, options.provisionedThroughput ? { provisionedThroughput: options.provisionedThroughput } : {});
    let created = true;
    try {
      await client.send(new CreateTableCommand(input));
    } catch (err) {
      if (!isAwsError(err, 'ResourceInUseException')) throw err;
      created = false;
    }
    if (options.waitForActive ?? true) await waitForActive(client, tableName, options.timeoutMs ?? 30_000);
    const timeToLive = created && spec.timeToLiveAttribute !== undefined ? await enableTimeToLive(client, tableName, spec.timeToLiveAttribute) : false;
    results.push({ key, tableName, created, timeToLive });
  }
  return results;
}

async function waitForActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} is still ${Table?.TableStatus ?? 'unknown'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** dynalite answers UpdateTimeToLive with UnknownOperationException: the local stack simply keeps expired items. */
async function enableTimeToLive(client: DynamoDBClient, tableName: string, attributeName: string): Promise<boolean> {
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName } }));
    return true;
  } catch (err) {
    if (isAwsError(err, 'UnknownOperationException')) return false;
    throw err;
  }
}
