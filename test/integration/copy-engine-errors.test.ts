// Clear errors before and during a copy: bad references, a missing source, and schema1 manifests (refused with a fix).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { parseReference } from '../../functions/oci/reference.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { clientFor, codesOf, manifestStatus, rejection } from './copy-engine-support.ts';

const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A schema1 manifest as `docker push` with Docker < 1.10 wrote it (one layer, one history entry). */
function schema1Payload(name: string, tag: string): string {
  return JSON.stringify(
    {
      schemaVersion: 1,
      name,
      tag,
      architecture: 'amd64',
      fsLayers: [{ blobSum: 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4' }],
      history: [{ v1Compatibility: '{"id":"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5","created":"2014-12-31T22:22:54.690851953Z"}' }],
    },
    null,
    3,
  );
}

/**
 * A signed schema1 manifest (libtrust pretty JWS): the payload with a `signatures` block spliced in
 * before the closing brace. Registries report the digest of the payload, NOT of the bytes served.
 */
function signedSchema1(name: string, tag: string): { body: string; payloadDigest: string } {
  const payload = schema1Payload(name, tag);
  const cut = payload.lastIndexOf('\n}');
  const signatures = ',\n   "signatures": [\n      {\n         "header": {"alg": "ES256"},\n         "signature": "c2lnbmF0dXJl",\n         "protected": "e30"\n      }\n   ]\n}';
  return { body: payload.slice(0, cut) + signatures, payloadDigest: sha256(payload) };
}

interface Schema1Route {
  readonly contentType: string;
  readonly body: string;
  /** Docker-Content-Digest to send; omitted when undefined. */
  readonly digest?: string;
}

/**
 * Just enough of the distribution API for `manifestGet`: distribution 2.8 refuses schema1 pushes
 * (checked in the test), so a schema1 source has to be served by hand. Loopback only.
 */
async function startSchema1Server(routes: Readonly<Record<string, Schema1Route>>): Promise<{ host: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/v2/' || req.url === '/v2') return json(200, {});
    const m = /^\/v2\/(.+)\/manifests\/([^/?]+)$/.exec(req.url ?? '');
    const route = m ? routes[`${m[1]}:${m[2]}`] : undefined;
    if (!route) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    const headers: Record<string, string | number> = {
      'content-type': route.contentType,
      'content-length': Buffer.byteLength(route.body),
      'docker-distribution-api-version': 'registry/2.0',
    };
    if (route.digest !== undefined) headers['docker-content-digest'] = route.digest;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('schema1 server has no port');
  return { host: `127.0.0.1:${addr.port}`, requests, server };
}

describe('copy errors a user can act on', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let dstProxy: FaultProxy;
  let src: RegistryClient;
  let dst: RegistryClient;

  beforeAll(async () => {
    [srcReg, dstReg] = await Promise.all([startRegistry(), startRegistry()]);
    dstProxy = await startFaultProxy(dstReg.url);
    src = clientFor(srcReg);
    dst = clientFor(dstProxy);
    await pushImage(srcReg, 'team/app', 'v1');
  });

  afterAll(async () => {
    src?.close();
    dst?.close();
    await dstProxy?.stop();
    await Promise.all([srcReg?.stop(), dstReg?.stop()]);
  });

  it.each([
    ['127.0.0.1:5000/Team/App:v1', 'must be lowercase'],
    ['127.0.0.1:5000/team/app:', 'the tag after ":" is empty'],
    ['127.0.0.1:5000/team/app@sha256:abc', '64 hex characters'],
    ['127.0.0.1:5000/team//app', 'empty path component'],
    ['127.0.0.1:5000/team/app:v1 ', 'whitespace'],
    ['', 'it is empty'],
  ])('parseReference(%j) is refused, quoting the input and saying %j', (input, problem) => {
    // Act
    let caught: unknown;
    try {
      parseReference(input);
    } catch (err) {
      caught = err;
    }
    // Assess
    expect(codesOf(caught)).toEqual(['INVALID_REFERENCE']);
    expect((caught as Error).message).toContain(`"${input}"`);
    expect((caught as Error).message).toContain(problem);
  });

  it.each([
    { what: 'an uppercase target repository', target: { repository: 'Mirror/App', tag: 'v1' }, quoted: 'Mirror/App' },
    { what: 'a target tag with a slash', target: { repository: 'mirror/slash', tag: 'v1/x' }, quoted: 'v1/x' },
    { what: 'a target tag over 128 characters', target: { repository: 'mirror/long', tag: 'x'.repeat(129) }, quoted: 'x'.repeat(129) },
  ])('copyImage with $what fails INVALID_REFERENCE, quoting it, and publishes nothing', async ({ target, quoted }) => {
    // Prepare
    dstProxy.clearRequests();
    // Act
    const err = await rejection(copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, ...target }));
    // Assess
    expect(codesOf(err)).toContain('INVALID_REFERENCE');
    expect(err.message).toContain(quoted);
    // Checked before anything is written: not one blob or manifest reached the target.
    expect(dstProxy.count('PUT') + dstProxy.count('POST') + dstProxy.count('PATCH')).toBe(0);
  });

  it('a missing source tag fails MANIFEST_UNKNOWN naming the registry and the reference, and the target is untouched', async () => {
    // Prepare
    dstProxy.clearRequests();
    // Act
    const err = await rejection(copyImage({ registry: src, repository: 'team/app', reference: 'nope' }, { registry: dst, repository: 'mirror/app', tag: 'nope' }));
    // Assess
    expect(codesOf(err)).toContain('MANIFEST_UNKNOWN');
    expect(err.message).toContain(srcReg.host);
    expect(err.message).toContain('team/app:nope');
    expect(dstProxy.requests).toHaveLength(0);
  });

  it('distribution 2.8 refuses schema1 pushes, so the schema1 source below is served by a stub', async () => {
    // Prepare
    const raw = new RawRegistryClient(srcReg);
    const { body } = signedSchema1('legacy/app', 'v1');
    // Act
    const res = await raw.request('PUT', '/v2/legacy/app/manifests/v1', {
      body: Buffer.from(body),
      headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
    });
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.toString()).toContain('MANIFEST_INVALID');
    expect(await manifestStatus(srcReg, 'legacy/app', 'v1')).toBe(404);
  });

  describe('schema1 sources', () => {
    let stub: Awaited<ReturnType<typeof startSchema1Server>>;
    let legacy: RegistryClient;
    const signed = signedSchema1('legacy/app', 'signed');
    const unsigned = schema1Payload('legacy/app', 'unsigned');

    beforeAll(async () => {
      stub = await startSchema1Server({
        // As registries serve it: Docker-Content-Digest is the digest of the JWS payload, not of the bytes.
        'legacy/app:signed': { contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', body: signed.body, digest: signed.payloadDigest },
        'legacy/app:unsigned': { contentType: 'application/vnd.docker.distribution.manifest.v1+json', body: unsigned, digest: sha256(unsigned) },
        // A registry that labels it generically: the body's schemaVersion still gives it away.
        'legacy/app:generic': { contentType: 'application/json', body: unsigned },
      });
      legacy = clientFor({ host: stub.host });
    });

    afterAll(async () => {
      legacy?.close();
      await new Promise((resolve) => stub?.server.close(resolve));
    });

    // Regression: parseManifest used to check the Docker-Content-Digest against the served bytes before
    // it recognised schema1, so a signed schema1 manifest (whose DCD is the JWS payload digest) failed
    // with a DIGEST_MISMATCH that said nothing about schema1.
    it.each(['signed', 'unsigned', 'generic'])(
      'a %s schema1 manifest is refused UNSUPPORTED_MANIFEST with what to do, and nothing reaches the target',
      async (tag) => {
        // Prepare
        dstProxy.clearRequests();
        // Act
        const err = await rejection(copyImage({ registry: legacy, repository: 'legacy/app', reference: tag }, { registry: dst, repository: 'mirror/legacy', tag }));
        // Assess
        expect(codesOf(err)).toContain('UNSUPPORTED_MANIFEST');
        expect(err.message).toMatch(/schema1/i);
        expect(err.message).toContain(`${stub.host}/legacy/app:${tag}`);
        // It tells the user what to do: re-push as schema2/OCI, with a command.
        expect(err.message).toMatch(/re-push it as schema2 or OCI/i);
        expect(err.message).toContain('skopeo copy --format v2s2');
        expect(dstProxy.requests).toHaveLength(0);
        expect(stub.requests.some((r) => r.startsWith('GET /v2/legacy/app/manifests/'))).toBe(true);
      },
    );
  });
});
