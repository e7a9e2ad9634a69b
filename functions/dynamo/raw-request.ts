// DynamoDB's JSON protocol without the SDK's request pipeline: one signed POST per call, the response body returned as text for the caller to JSON.parse.
//
// The lean readers (lean-scan.ts) read a million items per report; the SDK's deserialiser and
// `unmarshall` were most of that CPU (docs/BENCHMARKS.md, "Reports over a large audit log"). The
// request is signed with the SDK's own signer (@smithy/signature-v4) and credentials from the SDK
// client's own provider (the default chain: env, SSO, profile, IMDS, …), so real AWS works as with
// the SDK. Protocol: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
// Errors and retries: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../node-sha256.ts';

/** Static credentials (what a provider resolves to). */
export interface RawCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Where and as whom to send requests, as plain data: a worker thread gets it by postMessage and
 * builds its own client (a provider function cannot cross threads).
 */
export interface RawDynamoConnection {
  /** e.g. `https://dynamodb.eu-west-1.amazonaws.com/` or a dynalite `http://127.0.0.1:4567`. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: RawCredentials;
}

export interface RawDynamoOptions {
  readonly endpoint: string;
  readonly region: string;
  /** Static credentials, or a provider (the SDK client's `config.credentials`, which caches and refreshes). */
  readonly credentials: RawCredentials | (() => Promise<RawCredentials>);
  /** Attempts per call for throttling, 5xx and network errors (default 10: a long scan should outlast a burst of throttling). */
  readonly maxAttempts?: number;
  /** Full-jitter backoff over `min(maxDelayMs, baseDelayMs * 2^attempt)` (defaults 50 and 5000, DynamoDB's advice of exponential backoff). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per request (default 60 s). */
  readonly timeoutMs?: number;
  /** Random source in [0, 1) for the jitter (tests). */
  readonly random?: () => number;
}

/** Error types DynamoDB answers that a retry (after a backoff) can clear. */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** A DynamoDB error answer (or a failure to reach it). `name` is DynamoDB's error type, as the SDK names its errors (isAwsError works). */
export class DynamoRawError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = type;
  }
}

/**
 * Sends DynamoDB calls, signed, with retries.
 *
 * @example
 * const raw = await rawClientFor(clients.client, 'http://127.0.0.1:4567');
 * const page = JSON.parse(await raw.call('Scan', { TableName: 'audit', ConsistentRead: true }));
 */
export class RawDynamoClient {
  private readonly url: URL;
  private readonly region: string;
  private readonly credentials: RawDynamoOptions['credentials'];
  private readonly signer: SignatureV4;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly secrets: () => Promise<readonly string[]>;

  constructor(options: RawDynamoOptions) {
    this.url = new URL(options.endpoint);
    this.region = options.region;
    const credentials = (this.credentials = options.credentials);
    this.signer = new SignatureV4({ service: 'dynamodb', region: options.region, credentials, sha256: NodeSha256 });
    this.secrets = async () => {
      const c = typeof credentials === 'function' ? await credentials() : credentials;
      return [c.secretAccessKey, c.sessionToken ?? '', c.accessKeyId].filter((s) => s.length >= 8);
    };
    this.agent = this.url.protocol === 'http:' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
    this.maxAttempts = options.maxAttempts ?? 10;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /** Plain data for another thread: the endpoint, the region and the credentials resolved now. */
  async connection(): Promise<RawDynamoConnection> {
    const c = typeof this.credentials === 'function' ? await this.credentials() : this.credentials;
    return {
      endpoint: this.url.href,
      region: this.region,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
    };
  }

  /**
   * `operation` (`Scan`, `Query`, …) with `input` as its JSON request; resolves to the response body
   * text of a 200. Throttling, 5xx and network errors are retried with backoff.
   *
   * @throws DynamoRawError with DynamoDB's error type as `name`, and a message without credentials.
   */
  async call(operation: string, input: unknown): Promise<string> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt += 1) {
      let error: DynamoRawError;
      try {
        const { status, text } = await this.send(operation, body);
        if (status === 200) return text;
        error = await this.answerError(operation, status, text);
      } catch (err) {
        error = err instanceof DynamoRawError ? err : await this.networkError(operation, err);
      }
      if (!error.retryable || attempt >= this.maxAttempts) {
        if (error.retryable) error.message += ` (after ${attempt} attempts)`;
        throw error;
      }
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt - 1, 20));
      await sleep(Math.floor(this.random() * ceiling));
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }

  private async send(operation: string, body: string): Promise<{ status: number; text: string }> {
    const url = this.url;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
      body,
    });
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new DynamoRawError(`DynamoDB ${operation} at ${url.host}: no answer within ${this.timeoutMs / 1000} s`, 'TimeoutError', undefined, true)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** DynamoDB's error answer: `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"…"}`. */
  private async answerError(operation: string, status: number, text: string): Promise<DynamoRawError> {
    let type = `HTTP${status}`;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
      if (parsed.__type) type = parsed.__type.slice(parsed.__type.lastIndexOf('#') + 1);
      message = parsed.message ?? parsed.Message ?? message;
    } catch {
      // Not JSON (a proxy's HTML page): the start of the text is the message.
    }
    const retryable = RETRYABLE.has(type) || status >= 500;
    return new DynamoRawError(`DynamoDB ${operation} failed (${type}, HTTP ${status}): ${await this.redact(message)}`, type, status, retryable);
  }

  private async networkError(operation: string, err: unknown): Promise<DynamoRawError> {
    const e = err as NodeJS.ErrnoException;
    return new DynamoRawError(`DynamoDB ${operation} at ${this.url.host} could not be reached: ${await this.redact(e.message ?? String(err))}`, e.code ?? 'NetworkingError', undefined, true, {
      cause: err,
    });
  }

  /** DynamoDB's signature errors quote the canonical request and the string to sign: no key, token or signature leaves in a message. */
  private async redact(text: string): Promise<string> {
    let out = text.replace(/Signature=[0-9a-f]{64}/g, 'Signature=[redacted]');
    let secrets: readonly string[] = [];
    try {
      secrets = await this.secrets();
    } catch {
      // No credentials to name: nothing of theirs can be in the text.
    }
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out;
  }
}

/**
 * A raw client that sends where `client` sends and as whom: its endpoint (or `endpoint`, or the
 * regional endpoint its resolver gives, e.g. `.amazonaws.com.cn` in China), its region, its credentials provider.
 */
export async function rawClientFor(client: DynamoDBClient, endpoint?: string, options: Omit<RawDynamoOptions, 'endpoint' | 'region' | 'credentials'> = {}): Promise<RawDynamoClient> {
  const region = await client.config.region();
  const url = endpoint ?? client.config.endpointProvider({ Region: region }).url.href;
  return new RawDynamoClient({ ...options, endpoint: url, region, credentials: client.config.credentials });
}
