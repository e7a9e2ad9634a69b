// The audit log's public surface: import from here (`functions/audit/index.ts`).
import { createDynamoClients, type DynamoClientOptions } from '../dynamo/client.ts';
import { RawDynamoClient } from '../dynamo/raw-client.ts';
import { AuditLog, type AuditLogOptions } from './audit-log.ts';
import { DynamoAuditStore } from './dynamo-store.ts';

export { AuditLog, chooseIndex, headsDigest, type AuditLogOptions } from './audit-log.ts';
export { canonicalJson } from './canonical-json.ts';
export {
  ChainChecker,
  GENESIS_HASH,
  GLOBAL_PARTITION,
  PARTITION_REGISTRY_KEY,
  formatSeq,
  fromItem,
  hashRecord,
  partitionFor,
  sealRecord,
  timeKeyOf,
  toItem,
  type ChainEntry,
} from './chain.ts';
export { DynamoAuditStore, type DynamoAuditStoreOptions } from './dynamo-store.ts';
export { AuditError, isAuditError, type AuditErrorCode, type AuditErrorOptions } from './errors.ts';
export { InMemoryAuditStore } from './memory-store.ts';
export { MAX_DETAILS_LENGTH, MAX_ERROR_MESSAGE_LENGTH, normalizeAuditRecord } from './normalize.ts';
export { redactAuditText, redactJson } from './redact.ts';
export type { AuditIndex, AuditStore, StoreQuery } from './store.ts';
export { parseTimeBound } from './time-bounds.ts';
export * from './types.ts';

export interface OpenDynamoAuditLogOptions extends DynamoClientOptions, AuditLogOptions {
  /** Physical name of the audit table (the CDK output, or `localTableNames(prefix).audit`). */
  readonly tableName: string;
}

/**
 * One call for handlers and the CLI: clients from endpoint/region, the DynamoDB store, the log.
 * Call `close()` when done (the CLI) or keep the log for the container's life (Lambda). The store
 * also gets the lean client (same endpoint, region and credentials) for the reports' bulk reads.
 *
 * @example
 * const { log, close } = openDynamoAuditLog({ endpoint: 'http://127.0.0.1:8000', tableName: 'regman-audit' });
 * try { console.log(await log.verify()); } finally { close(); }
 */
export function openDynamoAuditLog(options: OpenDynamoAuditLogOptions): { log: AuditLog; store: DynamoAuditStore; raw: RawDynamoClient; close(): void } {
  const clients = createDynamoClients(options);
  // Bulk reads (scanChains, queryFields) go through the lean client: same endpoint, region and credentials as the SDK client.
  const raw = new RawDynamoClient({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });
  const store = new DynamoAuditStore({ docClient: clients.docClient, tableName: options.tableName, raw });
  return {
    log: new AuditLog(store, options),
    store,
    raw,
    close: () => {
      clients.destroy();
      raw.destroy();
    },
  };
}
