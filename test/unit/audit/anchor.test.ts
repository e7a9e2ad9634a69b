// Signed head anchors: signing, tamper checks, the S3 Object Lock sink (client mocked) and the CLI actor (STS on a local server).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { StsCallerIdentity } from '../../../functions/audit/actor/caller-identity.ts';
import { resolveCliActor } from '../../../functions/audit/actor/cli-actor.ts';
import { generateAnchorKey, signHeads, verifyAnchor } from '../../../functions/audit/anchor.ts';
import { S3AnchorSink } from '../../../functions/audit/anchors/s3-sink.ts';

const heads = [
  { partition: 'repo#a', seq: 3, hash: 'a'.repeat(64), time: '2026-01-01T00:00:00.000Z' },
  { partition: 'repo#b', seq: 9, hash: 'b'.repeat(64), time: '2026-01-02T00:00:00.000Z' },
];
const key = generateAnchorKey();
const now = new Date('2026-01-03T00:00:00.000Z');

describe('anchors', () => {
  it('signs the heads and verifies, also against the trusted key', () => {
    const doc = signHeads(heads, key.privateKey, now);
    expect(doc).toMatchObject({ version: 1, time: now.toISOString(), digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(() => verifyAnchor(doc)).not.toThrow();
    expect(() => verifyAnchor(doc, key.publicKey)).not.toThrow();
  });

  it.each([
    ['edited heads', (d: ReturnType<typeof signHeads>) => ({ ...d, heads: [{ ...d.heads[0]!, seq: 1 }, d.heads[1]!] }), /do not hash to its digest/],
    ['a re-signed digest by another key', (_d: ReturnType<typeof signHeads>) => signHeads([heads[0]!], generateAnchorKey().privateKey, now), /different key/],
    ['a forged signature', (d: ReturnType<typeof signHeads>) => ({ ...d, signature: Buffer.alloc(64).toString('base64') }), /signature does not match/],
  ])('rejects %s', (_name, tamper, message) => {
    const doc = tamper(signHeads(heads, key.privateKey, now));
    expect(() => verifyAnchor(doc, key.publicKey)).toThrow(message);
  });

  describe('S3AnchorSink', () => {
    const s3 = mockClient(S3Client);
    afterEach(() => s3.reset());

    it('puts each anchor once, locked in compliance mode, and reads back the newest', async () => {
      // Prepare
      const doc = signHeads(heads, key.privateKey, now);
      s3.on(PutObjectCommand).resolves({});
      s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'audit-anchors/2026-01-01T00:00:00.000Z.json' }, { Key: 'audit-anchors/2026-01-03T00:00:00.000Z.json' }] });
      s3.on(GetObjectCommand, { Key: 'audit-anchors/2026-01-03T00:00:00.000Z.json' }).resolves({ Body: { transformToString: async () => JSON.stringify(doc) } as never });
      const sink = new S3AnchorSink({ client: new S3Client({ region: 'eu-west-1' }), bucket: 'anchors', retainDays: 10 });

      // Act
      const where = await sink.write(doc);
      const latest = await sink.latest();

      // Assess
      expect(where).toBe('s3://anchors/audit-anchors/2026-01-03T00:00:00.000Z.json');
      const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(put).toMatchObject({ Bucket: 'anchors', ObjectLockMode: 'COMPLIANCE', IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' });
      expect(put.ObjectLockRetainUntilDate).toEqual(new Date('2026-01-13T00:00:00.000Z'));
      expect(latest).toEqual(doc);
    });
  });
});

describe('CLI actor', () => {
  it('is the IAM principal from a signed GetCallerIdentity, else cli:<user> with a note', async () => {
    // Prepare: a stand-in STS endpoint that checks the request is SigV4-signed.
    const seen: { auth?: string; body?: string } = {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        Object.assign(seen, { auth: req.headers.authorization, body });
        res.end('<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/Deploy/alice</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok' });
    try {
      // Act
      const iam = await resolveCliActor({ env: { USER: 'bob' }, identity: new StsCallerIdentity({ credentials, region: 'eu-west-1', endpoint }) });
      const broken = await resolveCliActor({ env: { USER: 'bob' }, identity: { callerArn: () => Promise.reject(new Error('no credentials')) } });
      const plain = await resolveCliActor({ env: { REGMAN_USER: 'carol', USER: 'bob' } });

      // Assess
      expect(iam).toEqual({ actor: 'arn:aws:sts::123456789012:assumed-role/Deploy/alice' });
      expect(seen.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
      expect(seen.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
      expect(broken).toEqual({ actor: 'cli:bob', note: expect.stringMatching(/IAM principal is unknown \(no credentials\)/) });
      expect(plain).toEqual({ actor: 'cli:carol' });
    } finally {
      server.close();
    }
  });
});
