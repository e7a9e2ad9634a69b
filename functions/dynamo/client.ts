// DynamoDB client factory: one place that turns endpoint/region options into SDK clients (AWS or a local dynalite).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientOptions {
  /** e.g. `http://127.0.0.1:4567` for the local stack; omit for AWS. */
  readonly endpoint?: string;
  /** Defaults to `AWS_REGION`, else `us-east-1` (a local endpoint ignores it). */
  readonly region?: string;
  /**
   * Static credentials. With a local `endpoint` and none given, dummy credentials are used so the SDK
   * never walks the default provider chain (which would contact the instance metadata service).
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** SDK retry attempts (default: the SDK's 3). */
  readonly maxAttempts?: number;
}

export interface DynamoClients {
  readonly client: DynamoDBClient;
  /** Document client: plain JS values in and out; `undefined` attributes are dropped. */
  readonly docClient: DynamoDBDocumentClient;
  /** Closes the sockets of both clients. */
  destroy(): void;
}

/**
 * Builds a low-level client and a document client sharing it.
 *
 * @example
 * const { docClient } = createDynamoClients({ endpoint: 'http://127.0.0.1:8000' });
 */
export function createDynamoClients(options: DynamoClientOptions = {}): DynamoClients {
  const credentials = options.credentials ?? (options.endpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  const client = new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });
  const docClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return {
    client,
    docClient,
    destroy() {
      docClient.destroy();
      client.destroy();
    },
  };
}

/**
 * Reads the client options from the environment: `REGMAN_DYNAMODB_ENDPOINT` (local stack) and `AWS_REGION`.
 * Call once at module load in handlers.
 */
export function dynamoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoClientOptions {
  const endpoint = env.REGMAN_DYNAMODB_ENDPOINT;
  const region = env.AWS_REGION;
  return { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) };
}

/** True when `err` is an AWS SDK service error with this name (e.g. `ConditionalCheckFailedException`). */
export function isAwsError(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}
