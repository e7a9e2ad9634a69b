// The signature gate against a real registry: cosign .sig manifests and sigstore bundle referrers signed with keys made here.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runSignatureGate } from '../../functions/gates/signature.ts';
import { resolveSignatureKeys } from '../../functions/gates/signature-keys.ts';
import type { GateInput } from '../../functions/gates/types.ts';
import { cosignTag, pushCosignLayers, pushImage, pushReferrer, type PushedImage } from '../helpers/images.ts';
import { useRegistryWithClient } from '../helpers/registry.ts';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

function simpleSigning(host: string, repo: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': `${host}/${repo}` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

/** DSSE pre-authentication encoding: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md */
const pae = (type: string, body: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

function dsseBundle(digest: string, key: KeyObject): Buffer {
  const statement = Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'image', digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  }));
  const type = 'application/vnd.in-toto+json';
  return Buffer.from(JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'ci' }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType: type, signatures: [{ sig: sign('sha256', pae(type, statement), key).toString('base64'), keyid: '' }] },
  }));
}

describe('signature gate against distribution', () => {
  const ctx = useRegistryWithClient();
  const ci = pair();
  const other = pair();
  const keys = [{ id: 'ci', pem: pem(ci.publicKey) }];
  const input = (repository: string, digest: string): GateInput => ({ repository, tag: 'v1', digest, edge: { from: 'staging', to: 'prod' }, registry: 'staging', correlationId: 'c' });

  async function signedImage(repo: string, opts: { key?: KeyObject; signDigest?: string; tamper?: boolean } = {}): Promise<PushedImage> {
    const image = await pushImage(ctx.reg, repo, 'v1');
    const payload = simpleSigning(ctx.reg.host, repo, opts.signDigest ?? image.digest);
    const signature = sign('sha256', payload, opts.key ?? ci.privateKey).toString('base64');
    const stored = opts.tamper ? Buffer.from(payload.toString().replace('"optional":null', '"optional":{"env":"prod"}')) : payload;
    await pushCosignLayers(ctx.reg, repo, cosignTag(image.digest, 'sig'), [
      { data: stored, mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', annotations: { 'dev.cosignproject.cosign/signature': signature } },
    ]);
    return image;
  }

  it('passes a .sig signature by a configured key', async () => {
    // Prepare
    const image = await signedImage('sig/ok');
    // Act
    const result = await runSignatureGate(input('sig/ok', image.digest), {}, { registry: ctx.client, publicKeys: [{ id: 'old', pem: pem(other.publicKey) }, ...keys] });
    // Assess
    expect(result).toMatchObject({ gate: 'signature', passed: true, summary: 'signed by ci (cosign signature (.sig tag))', details: { keyId: 'ci' } });
  });

  it.each([
    ['a wrong key', { key: other.privateKey }, /no configured key \(ci\) verifies: signed with another key, or its payload was changed after signing/],
    ['a tampered payload', { tamper: true }, /no configured key \(ci\) verifies/],
    ['a signature over another digest', { signDigest: `sha256:${'ab'.repeat(32)}` }, new RegExp(`a signature over another digest \\(sha256:${'ab'.repeat(32)}\\) by ci`)],
  ])('fails %s and says which', async (_name, opts, reason) => {
    // Prepare
    const repo = `sig/bad-${Object.keys(opts)[0]!.toLowerCase()}`;
    const image = await signedImage(repo, opts);
    // Act
    const result = await runSignatureGate(input(repo, image.digest), {}, { registry: ctx.client, publicKeys: keys });
    // Assess
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(new RegExp(`^${repo}@${image.digest} has no valid signature by a configured key: `));
    expect(result.reason).toMatch(reason);
  });

  it('fails an unsigned image, saying how to sign it', async () => {
    // Prepare
    const image = await pushImage(ctx.reg, 'sig/none', 'v1');
    // Act
    const result = await runSignatureGate(input('sig/none', image.digest), {}, { registry: ctx.client, publicKeys: keys });
    // Assess
    expect(result.passed).toBe(false);
    expect(result.reason).toContain(`has no cosign signature (no ${cosignTag(image.digest, 'sig')} tag and no sigstore bundle referrer)`);
  });

  it('passes a sigstore DSSE bundle referrer verified offline with the key, and fails it with another key', async () => {
    // Prepare
    const image = await pushImage(ctx.reg, 'sig/bundle', 'v1');
    await pushReferrer(ctx.reg, 'sig/bundle', image.descriptor, { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', data: dsseBundle(image.digest, ci.privateKey) });
    // Act
    const good = await runSignatureGate(input('sig/bundle', image.digest), {}, { registry: ctx.client, publicKeys: keys });
    const wrong = await runSignatureGate(input('sig/bundle', image.digest), {}, { registry: ctx.client, publicKeys: [{ id: 'other', pem: pem(other.publicKey) }] });
    // Assess
    expect(good).toMatchObject({ passed: true, summary: 'signed by ci (sigstore bundle referrer)' });
    expect(wrong.passed).toBe(false);
    expect(wrong.reason).toMatch(/no configured key \(other\) verifies/);
  });

  it('resolves keys from Secrets Manager references through the resolver, and refuses a non-P-256 key', async () => {
    // Prepare
    const asked: unknown[] = [];
    const secrets = { getSecret: async (ref: unknown) => (asked.push(ref), `${pem(ci.publicKey)}\n`) };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    // Act
    const resolved = await resolveSignatureKeys([{ secretName: 'regman/cosign' }, { id: 'inline', pem: pem(rsa) }], secrets);
    // Assess
    expect(asked).toEqual([{ secretName: 'regman/cosign' }]);
    expect(resolved.map((k) => k.id)).toEqual(['regman/cosign', 'inline']);
    await expect(runSignatureGate(input('sig/ok', `sha256:${'0'.repeat(64)}`), {}, { registry: ctx.client, publicKeys: resolved })).rejects.toMatchObject({
      code: 'KEY_INVALID', message: expect.stringMatching(/signature key inline is rsa, not ECDSA P-256/),
    });
  });
});
