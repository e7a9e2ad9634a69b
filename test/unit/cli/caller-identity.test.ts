// STS GetCallerIdentity, signed with SigV4, against a local HTTP server standing in for STS: the ARN, STS's error codes, missing credentials.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerIdentityError, StsCallerIdentity } from '../../../bin/commands/caller-identity.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const OK = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:sts::111122223333:assumed-role/release/alice</Arn><UserId>AROA:alice</UserId><Account>111122223333</Account>
</GetCallerIdentityResult></GetCallerIdentityResponse>`;
const EXPIRED = '<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error></ErrorResponse>';

describe('StsCallerIdentity', () => {
  let server: Server;
  let endpoint: string;
  const seen: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: OK };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ ...(req.method ? { method: req.method } : {}), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('POSTs a SigV4-signed GetCallerIdentity for the region and returns the principal\'s ARN', async () => {
    answer = { status: 200, body: OK };
    const arn = await new StsCallerIdentity({ region: 'eu-west-1', endpoint, credentials: CREDENTIALS }).callerArn();
    expect(arn).toBe('arn:aws:sts::111122223333:assumed-role/release/alice');
    const req = seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(req.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('names STS\'s error code and message, and says a 5xx may be retried', async () => {
    answer = { status: 403, body: EXPIRED };
    const err = await new StsCallerIdentity({ endpoint, credentials: CREDENTIALS }).callerArn().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallerIdentityError);
    expect(err).toMatchObject({ code: 'ExpiredToken', retryable: false, message: 'STS GetCallerIdentity failed (ExpiredToken): The security token included in the request is expired' });
    answer = { status: 503, body: 'busy' };
    await expect(new StsCallerIdentity({ endpoint, credentials: CREDENTIALS }).callerArn()).rejects.toMatchObject({ code: 'HTTP 503', retryable: true });
  });

  it('says what to do when there are no credentials, without calling STS', async () => {
    const before = seen.length;
    const noCredentials = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    await expect(new StsCallerIdentity({ endpoint, credentials: noCredentials }).callerArn()).rejects.toMatchObject({
      code: 'NoCredentials',
      message: expect.stringContaining('Try: aws sso login, or set AWS_PROFILE'),
    });
    expect(seen.length).toBe(before);
  });
});
