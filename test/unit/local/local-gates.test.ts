// The local stack's promotion gate parts: the signing key pair, the Secrets Manager stand-in, the test hook route and the banner hints.
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../functions/config/index.ts';
import type { Registry } from '../../../functions/oci/registry.ts';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import { ecdsaP256Key } from '../../../functions/gates/signature-keys.ts';
import type { ControlRequest } from '../../../local/control-server.ts';
import { buildDemoImage } from '../../../local/demo/image.ts';
import { describeGates, promotionHints } from '../../../local/promotion-hints.ts';
import { LocalSecretResolver } from '../../../local/secrets.ts';
import { LOCAL_SIGNING_PUBLIC_KEY_SECRET, ensureLocalSigningKey } from '../../../local/signing-key.ts';
import { LOCAL_TEST_HOOK_PATH, localTestHookRoute } from '../../../local/test-hook.ts';
import { MemoryRegistry } from '../../helpers/memory-registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'regman-local-gates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureLocalSigningKey and LocalSecretResolver', () => {
  it('makes an ECDSA P-256 pair once (private key 0600), keeps it on the next start, and serves the public half as a local secret', async () => {
    const state = join(dir, 'keys');
    const first = ensureLocalSigningKey(state);
    expect(first.created).toBe(true);
    expect(statSync(first.privateKeyPath).mode & 0o777).toBe(0o600);
    const again = ensureLocalSigningKey(state);
    expect(again).toEqual({ ...first, created: false });
    expect(readFileSync(again.privateKeyPath, 'utf8')).toBe(readFileSync(first.privateKeyPath, 'utf8'));
    // The signature gate's own check accepts it; the resolver returns what the gate reads.
    const pem = await new LocalSecretResolver(state).getSecret({ secretName: LOCAL_SIGNING_PUBLIC_KEY_SECRET });
    expect(ecdsaP256Key({ id: 'k', pem }).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(createPublicKey(pem).export({ format: 'pem', type: 'spki' })).toBe(first.publicKeyPem);
  });

  it.each([
    [{ secretName: 'missing/key' }, /local secret "missing\/key" cannot be read: write its value to .*secrets\/missing\/key/],
    [{ secretName: '../../etc/passwd' }, /leaves .*secrets/],
    [{ secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x' }, /no Secrets Manager for arn:aws:secretsmanager.*name the secret with secretName/],
  ])('refuses %j with a message that says what to do', async (ref, message) => {
    const err = await new LocalSecretResolver(join(dir, 'keys')).getSecret(ref).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SECRET_NOT_FOUND', retryable: false });
    expect((err as Error).message).toMatch(message);
  });
});

describe('the local test hook (POST /hooks/tests)', () => {
  const registry = new MemoryRegistry();
  const image = buildDemoImage('v1');
  const missingBlob = image.blobs[1]!.digest;
  /** The same registry, except that one blob of the image is gone (a half-copied image). */
  const broken = new Proxy(registry, {
    get(target, prop) {
      if (prop === 'blobHead') return async (repo: string, digest: string) => (digest === missingBlob ? undefined : target.blobHead(repo, digest));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Registry;
  const adapter = (oci: Registry, namespace = ''): RegistryAdapter => ({ name: 'stg', oci, namespace }) as unknown as RegistryAdapter;
  const route = (oci: Registry) => localTestHookRoute({ config: { environments: { staging: { registries: ['stg'] } } as never }, adapters: new Map([['stg', adapter(oci)]]) });
  const post = (body: unknown, path = LOCAL_TEST_HOOK_PATH, method = 'POST'): ControlRequest => ({
    method, path, query: new URLSearchParams(), headers: {}, body: async () => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const request = { digest: image.index.digest, repository: 'app', tag: 'v1', from: 'staging', to: 'prod' };

  it('passes an image whose every manifest and blob is in the source environment, and fails one that misses a blob, naming it', async () => {
    for (const b of image.blobs) await registry.blobPut('app', b, Readable.from([b.bytes]));
    for (const m of [...image.manifests, image.index]) await registry.manifestPut('app', m.digest, { raw: m.bytes, mediaType: m.mediaType });
    expect(await route(registry)(post(request))).toEqual({ status: 200, body: { passed: true, checked: 7, missing: [], registry: 'stg' } });
    expect(await route(broken)(post(request))).toEqual({ status: 200, body: { passed: false, checked: 7, missing: [`blob ${missingBlob}`], registry: 'stg' } });
    const absent = { ...request, digest: `sha256:${'0'.repeat(64)}` };
    expect((await route(registry)(post(absent)))?.body).toMatchObject({ passed: false, missing: [`manifest ${absent.digest}`] });
  });

  it.each([
    ['not JSON', 'nope', 400, /the body is not JSON/],
    ['no digest', { ...request, digest: undefined }, 400, /"digest" is missing/],
    ['a bad digest', { ...request, digest: 'sha256:xyz' }, 400, /is not sha256:<64 hex>/],
  ])('answers 400 to %s', async (_, body, status, error) => {
    const answer = await route(registry)(post(body));
    expect(answer?.status).toBe(status);
    expect((answer?.body as { error: string }).error).toMatch(error);
  });

  it('fails an environment without a registry, refuses GET, and leaves other paths to the next route', async () => {
    expect((await route(registry)(post({ ...request, from: 'qa' })))?.body).toMatchObject({ passed: false, problem: 'environment "qa" has no registry in this stack' });
    expect((await route(registry)(post(request, LOCAL_TEST_HOOK_PATH, 'GET')))?.status).toBe(405);
    expect(await route(registry)(post(request, '/promotions'))).toBeUndefined();
  });
});

describe('promotionHints', () => {
  const { config } = validateConfig(
    [
      'registries: { d: { kind: oci, url: "http://127.0.0.1:5000", public: true }, s: { kind: oci, url: "http://127.0.0.1:5001", public: true } }',
      'environments: { dev: { registries: [d] }, staging: { registries: [s] }, prod: { registries: [s] } }',
      'replication: []',
      'promotion:',
      '  - { from: dev, to: staging, gates: { scan: { maxFindings: { critical: 0, high: 2 } }, tests: { lambda: smoke }, approval: { approvers: [a@x.io, b@x.io], required: 1 } } }',
      '  - { from: staging, to: prod }',
    ].join('\n'),
    'hints.yaml',
  );
  if (!config) throw new Error('the hints config does not validate');

  it('describes each edge\'s gates', () => {
    expect(config.promotion.map(describeGates)).toEqual(['scan (referrer: critical 0, high ≤ 2), tests (Lambda), 1 of 2 approvals', 'no gates']);
  });

  it('gives commands for this state folder and the first edge, and nothing without an edge', () => {
    const endpoints = { registries: { d: 'http://127.0.0.1:5000' }, environments: { dev: ['d'] } };
    const lines = promotionHints({ config, endpoints, stateDir: '/s' });
    expect(lines).toContain('  npx regman attach --artifact-type application/sarif+json report.sarif 127.0.0.1:5000/app:v1 --plain-http   (the scan report the scan gate reads)');
    expect(lines).toContain('  npx regman promote --state-dir /s --repository app --tag v1 --from dev --to staging');
    expect(lines).toContain('  npx regman approvals list --state-dir /s   then   npx regman approve <execution id> --state-dir /s --as a@x.io');
    expect(promotionHints({ config: { promotion: [] }, endpoints, stateDir: '/s' })).toEqual([]);
  });
});
