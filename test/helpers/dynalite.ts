// Test helper: an in-process dynalite DynamoDB on a free loopback port, with the product's tables created from their specs.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { createTables, type CreatedTable } from '../../functions/dynamo/create-tables.ts';
import { startDynaliteServer } from '../../functions/dynamo/dynalite-server.ts';
import { TABLE_SPECS, localTableNames, type TableKey, type TableSpec } from '../../functions/dynamo/tables.ts';

export interface StartDynaliteOptions {
  /** LevelDB folder: data survives a stop and a new start on the same path. In memory when omitted. */
  readonly path?: string;
  /** Table name prefix (default none: tables are `audit`, `idempotency`, `replication-state`). */
  readonly prefix?: string;
  /** Tables to create (default all of TABLE_SPECS; `[]` for none). */
  readonly tables?: Readonly<Record<string, TableSpec>>;
}

export interface DynaliteHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  /** Physical names of TABLE_SPECS under the prefix. */
  readonly tableNames: Record<TableKey, string>;
  /** What createTables did at start. */
  readonly created: readonly CreatedTable[];
  /** Destroys the clients and stops the server (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts dynalite and creates the tables.
 *
 * @example
 * const db = await startDynalite();
 * const log = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
 * afterAll(() => db.stop());
 */
export async function startDynalite(options: StartDynaliteOptions = {}): Promise<DynaliteHandle> {
  const server = await startDynaliteServer(options.path ? { path: options.path } : {});
  const clients = createDynamoClients({ endpoint: server.endpoint, region: 'us-east-1' });
  try {
    const created = await createTables(clients.client, options.tables ?? TABLE_SPECS, { prefix: options.prefix ?? '' });
    let stopped: Promise<void> | undefined;
    return {
      endpoint: server.endpoint,
      client: clients.client,
      docClient: clients.docClient,
      tableNames: localTableNames(options.prefix ?? ''),
      created,
      stop() {
        stopped ??= (async () => {
          clients.destroy();
          await server.stop();
        })();
        return stopped;
      },
    };
  } catch (err) {
    clients.destroy();
    await server.stop();
    throw err;
  }
}
