// A lean DynamoDB JSON-protocol client for bulk reads: one signed POST per page, the body parsed with plain JSON.parse, items left as wire JSON (attribute-values.ts converts them).
//
// The SDK's DynamoDBClient spends most of a large read in its response deserialiser (a schema walk with a JSON
// reviver) before `unmarshall` copies every item again; for the reports, which read hundreds of thousands of
// items, that was most of the time. This client does the same HTTP exchange itself
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html): POST / with
// `X-Amz-Target: DynamoDB_20120810.<Operation>` and `application/x-amz-json-1.0`, signed with SigV4 by the
// SDK's own signer (@smithy/signature-v4) with credentials from the SDK's default provider chain, so it works
// against AWS exactly as the SDK does, and against dynalite or any local endpoint with dummy credentials.
// Throttling and server errors are retried with full-jitter backoff like the SDK's standard retry mode
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
import { isAscii } from 'node:buffer';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../node-sha256.ts';
import type { WireItem } from './attribute-values.ts';

type CredentialProvider = ReturnType<typeof fromNodeProviderChain>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

export interface RawDynamoClientOptions {
  /** e.g. `http://127.0.0.1:4567`; default `https://dynamodb.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions). */
  readonly endpoint?: string;
  /** Signing region. @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** @default dummy keys with a local `endpoint` (as createDynamoClients), else the SDK's default provider chain (env, SSO, profile, IMDS, …) */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string } | CredentialProvider;
  /** Attempts per request, the first included. @default 3 (the SDK's default) */
  readonly maxAttempts?: number;
  /** Backoff base and ceiling of the full-jitter retry delay. @default 100 and 20000 ms */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A request without a complete answer after this long is retried (and fails after the last attempt). @default 30000 */
  readonly timeoutMs?: number;
}

/** A DynamoDB error answer, a timeout, or an endpoint that could not be reached. `name` is DynamoDB's error type (the SDK's error `name`). */
export class RawDynamoError extends Error {
  /** True for throttling, 5xx, timeouts and network errors (worth another try later). */
  readonly retryable: boolean;
  /** The HTTP status, when DynamoDB answered. */
  readonly statusCode: number | undefined;
  /** Attempts made, retries included. */
  readonly attempts: number;
  constructor(name: string, message: string, o: { retryable: boolean; statusCode?: number; attempts: number; cause?: unknown }) {
    super(message, o.cause !== undefined ? { cause: o.cause } : undefined);
    this.name = name;
    this.retryable = o.retryable;
    this.statusCode = o.statusCode;
    this.attempts = o.attempts;
  }
}

/** One page of a Query or Scan, items still in wire form. */
export interface RawPage {
  readonly Items: readonly WireItem[];
  readonly LastEvaluatedKey?: WireItem;
  readonly Count?: number;
  readonly ScannedCount?: number;
}

/**
 * Throttling error types, as the SDK's retry strategy classifies them (@smithy/service-error-classification's
 * THROTTLING_ERROR_CODES; DynamoDB's own: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
 */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException', 'TransactionInProgressException', 'TooManyRequestsException', 'RequestThrottled', 'RequestThrottledException', 'Throttling', 'ThrottledException']);
/** Socket errors the SDK retries; others (ENOTFOUND: a wrong host name) fail at once. */
const TRANSIENT_SOCKET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * An answer's text. DynamoDB's JSON is almost always ASCII (non-ASCII characters come as they are, not
 * escaped): an ASCII body is read as latin1, which copies bytes into a one-byte string, about half the
 * cost of UTF-8 decoding for the same result (measured on the audit log's 1 MB Scan pages).
 */
export function decode(body: Buffer): string {
  return isAscii(body) ? body.toString('latin1') : body.toString('utf8');
}

/**
 * DynamoDB's signature errors quote the canonical request and the string to sign: the access key id,
 * the session token and the signature are taken out of a message before it is shown or logged.
 */
export function redactSigned(message: string, headers: Readonly<Record<string, string>>): string {
  const secrets = [headers['x-amz-security-token'], /Credential=([^/,\s]+)\//.exec(headers.authorization ?? '')?.[1]].filter((s): s is string => s !== undefined && s.length > 0);
  let out = message.replace(/Signature=[0-9a-f]{64}/g, 'Signature=[redacted]');
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

/** `https://dynamodb.eu-west-1.amazonaws.com` for a region. */
export function dynamoEndpointFor(region: string): string {
  return `https://dynamodb.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * Signed DynamoDB requests over keep-alive sockets.
 *
 * @example
 * const raw = new RawDynamoClient({ region: 'eu-west-1' });
 * for await (const page of raw.pages('Query', { TableName, IndexName, KeyConditionExpression, ExpressionAttributeValues })) use(page.Items);
 * raw.destroy();
 */
export class RawDynamoClient {
  readonly endpoint: URL;
  private readonly region: string;
  private readonly credentials: RawDynamoClientOptions['credentials'] & object;
  private readonly signer: SignatureV4;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;

  constructor(options: RawDynamoClientOptions = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.endpoint = new URL(options.endpoint ?? dynamoEndpointFor(this.region));
    const credentials = (this.credentials = options.credentials ?? (options.endpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : fromNodeProviderChain()));
    this.signer = new SignatureV4({ service: 'dynamodb', region: this.region, credentials: credentials as Credentials | CredentialProvider, sha256: NodeSha256 });
    this.agent = this.endpoint.protocol === 'http:' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * One operation (`Query`, `Scan`, `GetItem`, …) with its JSON input in wire form; the parsed answer.
   * Retries what is retryable up to `maxAttempts`.
   *
   * @throws RawDynamoError named by DynamoDB's error type (`ValidationException`, `ResourceNotFoundException`,
   *   `ProvisionedThroughputExceededException` after the last attempt, …), or `NetworkingError` / `TimeoutError`,
   *   or `CredentialsProviderError` when there are no credentials to sign with.
   */
  async call<T = unknown>(operation: string, input: object): Promise<T> {
    return JSON.parse(decode(await this.callBody(operation, input))) as T;
  }

  /** `call`, with the answer's bytes as they came (the audit Scan reads them without JSON.parse: functions/audit/page-scanner.ts). */
  async callBody(operation: string, input: object): Promise<Buffer> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(operation, body, attempt);
      } catch (err) {
        if (!(err instanceof RawDynamoError) || !err.retryable || attempt >= this.maxAttempts) throw err;
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        await sleep(Math.floor(Math.random() * ceiling));
      }
    }
  }

  /**
   * Every page of a `Query` or `Scan`, following `LastEvaluatedKey`; the next page is requested only
   * when the caller asks for it.
   */
  async *pages(operation: 'Query' | 'Scan', input: Record<string, unknown>): AsyncIterable<RawPage> {
    let startKey: WireItem | undefined = input.ExclusiveStartKey as WireItem | undefined;
    do {
      const page: RawPage = await this.call<RawPage>(operation, startKey ? { ...input, ExclusiveStartKey: startKey } : input);
      startKey = page.LastEvaluatedKey;
      yield page.Items === undefined ? { ...page, Items: [] } : page;
    } while (startKey);
  }

  /**
   * The endpoint, region and credentials (resolved now) as plain data, for a client in another
   * thread (a provider function cannot be posted to a worker); keep it in memory only.
   */
  async connection(): Promise<{ endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }> {
    const c = typeof this.credentials === 'function' ? await this.credentials() : this.credentials;
    return {
      endpoint: this.endpoint.href,
      region: this.region,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
    };
  }

  /** Closes the idle sockets. */
  destroy(): void {
    this.agent.destroy();
  }

  private async once(operation: string, body: string, attempt: number): Promise<Buffer> {
    const url = this.endpoint;
    let signed;
    try {
      signed = await this.signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname || '/',
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
        body,
      });
    } catch (err) {
      const name = (err as Error).name === 'CredentialsProviderError' ? 'CredentialsProviderError' : 'SigningError';
      throw new RawDynamoError(name, `no AWS credentials to sign the DynamoDB ${operation} with: ${(err as Error).message}. Try: aws sso login, or set AWS_PROFILE`, { retryable: false, attempts: attempt, cause: err });
    }
    const { status, bytes } = await this.post(operation, signed.headers, body, attempt);
    if (status >= 200 && status < 300) return bytes;
    const text = decode(bytes);
    let type = `HTTP ${status}`;
    let message = text.slice(0, 300);
    try {
      const e = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
      if (e.__type) type = e.__type.slice(e.__type.lastIndexOf('#') + 1);
      message = e.message ?? e.Message ?? message;
    } catch {
      // Not JSON (a proxy's page, a load balancer's 502): keep the status and the start of the body.
    }
    const name = type.startsWith('HTTP ') ? (status >= 500 ? 'ServiceUnavailable' : 'HttpError') : type;
    message = redactSigned(message, signed.headers);
    throw new RawDynamoError(name, `DynamoDB ${operation} at ${url.host} failed (${type}${attempt > 1 ? `, attempt ${attempt}` : ''}): ${message}`, {
      retryable: status >= 500 || status === 429 || THROTTLING.has(type),
      statusCode: status,
      attempts: attempt,
    });
  }

  private post(operation: string, headers: Record<string, string>, body: string, attempt: number): Promise<{ status: number; bytes: Buffer }> {
    const url = this.endpoint;
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
        res.on('error', (err) => reject(new RawDynamoError('NetworkingError', `DynamoDB ${operation} at ${url.host}: the answer broke off: ${err.message}`, { retryable: true, attempts: attempt, cause: err })));
      });
      req.on('timeout', () => req.destroy(new RawDynamoError('TimeoutError', `DynamoDB ${operation} at ${url.host} did not answer within ${this.timeoutMs / 1000} s`, { retryable: true, attempts: attempt })));
      req.on('error', (err) =>
        reject(err instanceof RawDynamoError ? err : new RawDynamoError('NetworkingError', `DynamoDB at ${url.origin} could not be reached (attempt ${attempt}): ${err.message}`, { retryable: TRANSIENT_SOCKET.has(String((err as NodeJS.ErrnoException).code)), attempts: attempt, cause: err })),
      );
      req.end(body);
    });
  }
}
