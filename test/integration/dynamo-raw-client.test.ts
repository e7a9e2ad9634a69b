// The lean DynamoDB client against dynalite: items read raw and converted equal the SDK's, pages follow LastEvaluatedKey, and failures (throttling, a missing table, no endpoint) are clear errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWireItem, type WireItem } from '../../functions/dynamo/attribute-values.ts';
import { RawDynamoClient, RawDynamoError, type RawPage } from '../../functions/dynamo/raw-client.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

/** Every attribute type the document client writes. */
const ITEM = {
  pk: 'raw#types',
  sk: '000000000001',
  s: 'héllo ☃',
  n: 42,
  decimal: -17.25,
  big: 123456789012345678901234567890n,
  b: new Uint8Array([0, 1, 255]),
  t: true,
  f: false,
  nul: null,
  m: { a: 'x', inner: { deep: 1 }, list: [2, 'y'] },
  l: ['a', 3, null, false, { k: 'v' }, [], new Uint8Array([9])],
  ss: new Set(['a', 'b']),
  ns: new Set([1, 2.5]),
  bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
};

describe('RawDynamoClient on dynalite', () => {
  let db: DynaliteHandle;
  let raw: RawDynamoClient;
  let table: string;

  beforeAll(async () => {
    db = await startDynalite({});
    table = db.tableNames.audit;
    raw = new RawDynamoClient({ endpoint: db.endpoint, region: 'us-east-1' });
    await db.docClient.send(new PutCommand({ TableName: table, Item: ITEM }));
    for (let i = 2; i <= 25; i++) await db.docClient.send(new PutCommand({ TableName: table, Item: { pk: 'raw#pages', sk: String(i).padStart(12, '0'), i } }));
  }, 60_000);

  afterAll(async () => {
    raw?.destroy();
    await db?.stop();
  });

  it('reads an item of every attribute type exactly as the SDK reads it', async () => {
    const key = { pk: { S: ITEM.pk }, sk: { S: ITEM.sk } };
    const [sdk, wire] = await Promise.all([
      db.docClient.send(new GetCommand({ TableName: table, Key: { pk: ITEM.pk, sk: ITEM.sk }, ConsistentRead: true })),
      raw.call<{ Item: WireItem }>('GetItem', { TableName: table, Key: key, ConsistentRead: true }),
    ]);
    const ours = fromWireItem(wire.Item);
    expect(ours).toEqual(sdk.Item);
    expect(ours.big).toBe(ITEM.big);
    expect(ours.bs).toEqual(ITEM.bs);
  });

  it('pages a Query with Limit through LastEvaluatedKey, with the same items as the SDK', async () => {
    const input = { TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'raw#pages' } }, Limit: 7 };
    const pages: RawPage[] = [];
    for await (const p of raw.pages('Query', input)) pages.push(p);
    expect(pages.map((p) => p.Items.length)).toEqual([7, 7, 7, 3]);
    const sdk = await db.docClient.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'raw#pages' } }));
    expect(pages.flatMap((p) => p.Items.map(fromWireItem))).toEqual(sdk.Items);
  });

  it('a missing table is DynamoDB\u2019s ResourceNotFoundException, not retried', async () => {
    const err = await raw.call('Query', { TableName: 'no-such-table', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'x' } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RawDynamoError);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', retryable: false, statusCode: 400, attempts: 1 });
    expect((err as Error).message).toMatch(/^DynamoDB Query at 127\.0\.0\.1:\d+ failed \(ResourceNotFoundException\): /);
  });
});

describe('RawDynamoClient failures', () => {
  /** A server that answers each request with the next of `answers` (status, body), the last one forever. */
  async function scripted(answers: readonly (readonly [number, string])[]): Promise<{ server: Server; endpoint: string; seen: () => number; headers: () => Record<string, unknown>[] }> {
    let n = 0;
    const headers: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      headers.push(req.headers);
      req.resume().on('end', () => {
        const [status, body] = answers[Math.min(n++, answers.length - 1)]!;
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen: () => n, headers: () => headers };
  }
  const throttled: readonly [number, string] = [400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' })];

  it('retries throttling and then answers; the requests are SigV4-signed DynamoDB JSON calls', async () => {
    const s = await scripted([throttled, throttled, [200, '{"Items":[{"a":{"S":"x"}}],"Count":1}']]);
    const raw = new RawDynamoClient({ endpoint: s.endpoint, region: 'eu-west-1', baseDelayMs: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    try {
      const page = await raw.call<RawPage>('Query', { TableName: 't' });
      expect(page.Items).toEqual([{ a: { S: 'x' } }]);
      expect(s.seen()).toBe(3);
      const h = s.headers()[0]!;
      expect(h['x-amz-target']).toBe('DynamoDB_20120810.Query');
      expect(h['content-type']).toBe('application/x-amz-json-1.0');
      expect(String(h.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    } finally {
      raw.destroy();
      s.server.close();
    }
  });

  it('gives up on throttling after maxAttempts with the throttling error, marked retryable', async () => {
    const s = await scripted([throttled]);
    const raw = new RawDynamoClient({ endpoint: s.endpoint, maxAttempts: 2, baseDelayMs: 1 });
    try {
      const err = await raw.call('Scan', { TableName: 't' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ProvisionedThroughputExceededException', retryable: true, attempts: 2 });
      expect((err as Error).message).toContain('failed (ProvisionedThroughputExceededException, attempt 2): The level of configured provisioned throughput');
      expect(s.seen()).toBe(2);
    } finally {
      raw.destroy();
      s.server.close();
    }
  });

  it('a 5xx that is not JSON is a retryable ServiceUnavailable with the start of the body', async () => {
    const s = await scripted([[502, '<html>Bad Gateway</html>']]);
    const raw = new RawDynamoClient({ endpoint: s.endpoint, maxAttempts: 1 });
    try {
      const err = await raw.call('Query', {}).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ServiceUnavailable', retryable: true, statusCode: 502 });
      expect((err as Error).message).toContain('failed (HTTP 502): <html>Bad Gateway</html>');
    } finally {
      raw.destroy();
      s.server.close();
    }
  });

  it('an endpoint nobody listens on is a NetworkingError naming it, after the retries', async () => {
    const s = await scripted([[200, '{}']]);
    const endpoint = s.endpoint;
    await new Promise((r) => s.server.close(r));
    const raw = new RawDynamoClient({ endpoint, maxAttempts: 2, baseDelayMs: 1 });
    try {
      const err = await raw.call('Query', {}).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'NetworkingError', retryable: true, attempts: 2 });
      expect((err as Error).message).toMatch(new RegExp(`^DynamoDB at ${endpoint.replace(/[.]/g, '\\.')} could not be reached \\(attempt 2\\): connect ECONNREFUSED`));
    } finally {
      raw.destroy();
    }
  });

  it('no credentials to sign with is a clear, not retried error that says what to do', async () => {
    const none = async (): Promise<never> => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    const raw = new RawDynamoClient({ region: 'eu-west-1', credentials: none });
    try {
      const err = await raw.call('Query', {}).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'CredentialsProviderError', retryable: false, attempts: 1 });
      expect((err as Error).message).toBe('no AWS credentials to sign the DynamoDB Query with: Could not load credentials from any providers. Try: aws sso login, or set AWS_PROFILE');
      expect(raw.endpoint.href).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    } finally {
      raw.destroy();
    }
  });
});
