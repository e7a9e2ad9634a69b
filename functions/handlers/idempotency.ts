// Powertools idempotency for the replicate handler: the DynamoDB persistence store and the key of an ECR event.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DynamoClientOptions } from '../dynamo/client.ts';

/**
 * The idempotency key of an `ECR Image Action`: the EventBridge event id plus the image digest (a
 * duplicate delivery repeats both). JMESPath quotes the hyphenated key.
 */
export const IMAGE_EVENT_KEY_JMESPATH = '[id, detail."image-digest"]';

/** How long a completed replication answers duplicates from its record. @default 1 hour (EventBridge retries for up to 24 h, but HEAD checks make a late duplicate cheap) */
export const IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 60 * 60;

export interface IdempotencyStoreOptions extends DynamoClientOptions {
  /** Physical name of the idempotency table (TABLE_SPECS.idempotency layout: `id` key, `expiration` TTL). */
  readonly tableName: string;
  /** An existing client; otherwise one is built from endpoint/region (dummy credentials with a local endpoint). */
  readonly client?: DynamoDBClient;
}

/**
 * The DynamoDB persistence layer for Powertools idempotency, on AWS or a local dynalite. dynalite has
 * no TTL: expired records stay, and Powertools ignores them on read (it checks `expiration`).
 *
 * @example
 * const store = createIdempotencyStore({ tableName: 'idempotency', endpoint: db.endpoint });
 * const handler = createReplicateHandler(deps, { idempotency: { persistenceStore: store } });
 */
export function createIdempotencyStore(options: IdempotencyStoreOptions): BasePersistenceLayer {
  const credentials = options.credentials ?? (options.endpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  const client =
    options.client ??
    new DynamoDBClient({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
  return new DynamoDBPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: client });
}

/** The idempotency config of image events. */
export function imageEventIdempotencyConfig(expiresAfterSeconds = IDEMPOTENCY_EXPIRES_AFTER_SECONDS): IdempotencyConfig {
  return new IdempotencyConfig({ eventKeyJmesPath: IMAGE_EVENT_KEY_JMESPATH, expiresAfterSeconds, throwOnNoIdempotencyKey: true });
}
