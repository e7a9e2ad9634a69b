// The signed raw client (functions/dynamo/raw-client.ts) and its pages against dynalite, and its retries and error messages against a server that throttles.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '../../../functions/dynamo/tables.ts';
import { fromWireItem } from '../../../functions/dynamo/attribute-values.ts';
import { RawDynamoClient, RawDynamoError as DynamoRawError } from '../../../functions/dynamo/raw-client.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

let db: DynaliteHandle;
let raw: RawDynamoClient;
const ITEMS = Array.from({ length: 60 }, (_, i) => ({ pk: `repo#r${i % 6}`, sk: String(i).padStart(12, '0'), seq: i, tags: ['a', `t${i}`], details: { n: i / 2, ok: i % 2 === 0, none: null } }));

beforeAll(async () => {
  db = await startDynalite({ tables: { audit: AUDIT_TABLE } });
  for (let i = 0; i < ITEMS.length; i += 25) {
    await db.docClient.send(new BatchWriteCommand({ RequestItems: { [db.tableNames.audit]: ITEMS.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  raw = new RawDynamoClient({ endpoint: db.endpoint, region: 'us-east-1' });
}, 60_000);

afterAll(async () => {
  raw?.destroy();
  await db?.stop();
});

const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => (`${a.pk}${a.sk}` < `${b.pk}${b.sk}` ? -1 : 1);

describe('RawDynamoClient.pages against dynalite', () => {
  it('reads every item of a paginated consistent Scan, converted as the document client would', async () => {
    // Act
    const items: Record<string, unknown>[] = [];
    let pages = 0;
    for await (const page of raw.pages('Scan', { TableName: db.tableNames.audit, ConsistentRead: true, Limit: 7 })) {
      pages += 1;
      for (const item of page.Items ?? []) items.push(fromWireItem(item));
    }

    // Assess
    expect(pages).toBeGreaterThanOrEqual(9);
    expect(items.sort(byKey)).toEqual([...ITEMS].sort(byKey));
  });

  it('splits a parallel Scan into segments that together hold every item once, each partition in one segment', async () => {
    const seen = new Map<string, number>();
    for (let segment = 0; segment < 3; segment += 1) {
      for await (const page of raw.pages('Scan', { TableName: db.tableNames.audit, Segment: segment, TotalSegments: 3, Limit: 5 })) {
        for (const item of page.Items ?? []) {
          const pk = item.pk as { S: string };
          expect(seen.get(`${pk.S}`) ?? segment).toBe(segment);
          seen.set(pk.S, segment);
          seen.set(`${pk.S}/${(item.sk as { S: string }).S}`, segment);
        }
      }
    }
    expect([...seen.keys()].filter((k) => k.includes('/'))).toHaveLength(ITEMS.length);
  });

  it('pages a Query in key order, with the same items the SDK reads', async () => {
    const got: Record<string, unknown>[] = [];
    for await (const page of raw.pages('Query', {
      TableName: db.tableNames.audit,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': { S: 'repo#r2' } },
      Limit: 3,
    })) {
      for (const item of page.Items ?? []) got.push(fromWireItem(item));
    }
    const sdk = await db.docClient.send(new QueryCommand({ TableName: db.tableNames.audit, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'repo#r2' } }));
    expect(got).toEqual(sdk.Items);
    expect(got).toHaveLength(10);
  });

  it("names DynamoDB's error for a table that does not exist, without retrying", async () => {
    const started = Date.now();
    const err = await raw.call('Scan', { TableName: 'no-such-table' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DynamoRawError);
    expect((err as DynamoRawError).name).toBe('ResourceNotFoundException');
    expect((err as DynamoRawError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/^DynamoDB Scan at 127\.0\.0\.1:\d+ failed \(ResourceNotFoundException\): /);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('RawDynamoClient retries and errors', () => {
  let server: Server;
  let endpoint: string;
  const answers: { status: number; body: string }[] = [];
  const seen: { target: string; authorization: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ target: String(req.headers['x-amz-target']), authorization: String(req.headers.authorization) });
      req.resume();
      req.on('end', () => {
        const next = answers.shift() ?? { status: 200, body: '{"Items":[]}' };
        res.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.0' }).end(next.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const throttled = { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}' };
  const client = (maxAttempts: number) =>
    new RawDynamoClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLEKEY1', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, maxAttempts, baseDelayMs: 1, maxDelayMs: 2 });

  it('signs each request with SigV4 for dynamodb in the region and retries throttling until it passes', async () => {
    answers.length = 0;
    seen.length = 0;
    answers.push(throttled, throttled, { status: 500, body: '{"__type":"com.amazon.coral.service#InternalServerError","message":"oops"}' }, { status: 200, body: '{"Items":[{"a":{"S":"x"}}]}' });
    const c = client(5);
    try {
      expect(await c.call('Scan', { TableName: 't' })).toEqual({ Items: [{ a: { S: 'x' } }] });
    } finally {
      c.destroy();
    }
    expect(seen).toHaveLength(4);
    expect(seen[0]!.target).toBe('DynamoDB_20120810.Scan');
    expect(seen[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEKEY1\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/);
  });

  it('gives up after maxAttempts with the throttling named', async () => {
    answers.length = 0;
    answers.push(throttled, throttled, throttled);
    const c = client(3);
    const err = (await c.call('Query', {}).then(() => undefined, (e: unknown) => e)) as DynamoRawError;
    c.destroy();
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(err.message).toMatch(/^DynamoDB Query at 127\.0\.0\.1:\d+ failed \(ProvisionedThroughputExceededException, attempt 3\): The level of configured provisioned throughput for the table was exceeded\.$/);
    expect(err.attempts).toBe(3);
  });

  it('keeps the access key id, the session token and signatures out of an error that quotes them', async () => {
    answers.length = 0;
    answers.push({
      status: 400,
      body: JSON.stringify({ __type: 'com.amazon.coral.service#InvalidSignatureException', message: 'The request signature we calculated does not match. Credential=AKIDEXAMPLEKEY1/x token TOKEN-abc-123, Signature=' + 'ab'.repeat(32) }),
    });
    const c = new RawDynamoClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLEKEY1', secretAccessKey: 'secret', sessionToken: 'TOKEN-abc-123' }, maxAttempts: 1 });
    const err = (await c.call('Scan', {}).then(() => undefined, (e: unknown) => e)) as DynamoRawError;
    c.destroy();
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).not.toMatch(/AKIDEXAMPLEKEY1|TOKEN-abc-123|abababab/);
    expect(err.message).toContain('Credential=[redacted]/x token [redacted], Signature=[redacted]');
  });

  it('says which endpoint could not be reached', async () => {
    const c = new RawDynamoClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 2, baseDelayMs: 1 });
    const err = (await c.call('Scan', {}).then(() => undefined, (e: unknown) => e)) as DynamoRawError;
    c.destroy();
    expect(err.message).toMatch(/^DynamoDB at http:\/\/127\.0\.0\.1:1 could not be reached \(attempt 2\): .*ECONNREFUSED/);
    expect(err.retryable).toBe(true);
  });
});
