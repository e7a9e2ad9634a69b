// RegistryClient.manifestPut reads the OCI-Subject header (distribution-spec "Pushing Manifests with Subject"): a
// registry that answers with it processed the subject, and the client writes no fallback tag; without it, the client
// maintains the subject's `sha256-<hex>` index itself. Over HTTP against a small fake registry that records requests.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../functions/oci/client.ts';
import { MediaType } from '../../../functions/oci/media-types.ts';
import { fallbackTag } from '../../../functions/oci/referrers.ts';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SUBJECT = sha256('the subject manifest');
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 };

/** A referrer manifest (an SBOM) whose subject is SUBJECT. */
const referrer = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  artifactType: 'application/spdx+json',
  config: EMPTY,
  layers: [EMPTY],
  subject: { mediaType: MediaType.OciManifest, digest: SUBJECT, size: 100 },
}));

describe('manifestPut and the OCI-Subject header', () => {
  let server: Server;
  let host: string;
  let answerSubject = true;
  const requests: string[] = [];
  const stored = new Map<string, Buffer>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url}`);
        const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
        const base = { 'docker-distribution-api-version': 'registry/2.0' };
        if (!m) return void res.writeHead(200, { ...base, 'content-type': 'application/json' }).end('{}');
        const ref = decodeURIComponent(m[2]!);
        if (req.method === 'PUT') {
          const body = Buffer.concat(chunks);
          stored.set(ref, body);
          const subject = answerSubject && JSON.parse(body.toString('utf8')).subject !== undefined ? { 'oci-subject': SUBJECT } : {};
          return void res.writeHead(201, { ...base, ...subject, 'docker-content-digest': sha256(body), location: req.url! }).end();
        }
        const body = stored.get(ref);
        if (!body) return void res.writeHead(404, { ...base, 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        res.writeHead(200, { ...base, 'content-type': MediaType.OciIndex, 'content-length': String(body.length), 'docker-content-digest': sha256(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const push = async (): Promise<string[]> => {
    requests.length = 0;
    stored.clear();
    const client = new RegistryClient({ host, plainHttp: true });
    try {
      await client.manifestPut('team/app', sha256(referrer), { raw: referrer, mediaType: MediaType.OciManifest });
    } finally {
      client.close();
    }
    return requests.filter((r) => r.includes('/manifests/'));
  };

  it('with OCI-Subject in the answer, only the referrer is pushed: no fallback tag is read or written', async () => {
    answerSubject = true;
    expect(await push()).toEqual([`PUT /v2/team/app/manifests/${sha256(referrer)}`]);
    expect(stored.has(fallbackTag(SUBJECT))).toBe(false);
  });

  it('without it, the client reads the fallback tag (404: a new index) and pushes the index listing the referrer', async () => {
    answerSubject = false;
    const seen = await push();
    expect(seen[0]).toBe(`PUT /v2/team/app/manifests/${sha256(referrer)}`);
    expect(seen.at(-1)).toBe(`PUT /v2/team/app/manifests/${fallbackTag(SUBJECT)}`);
    const index = JSON.parse(stored.get(fallbackTag(SUBJECT))!.toString('utf8')) as { mediaType: string; manifests: { digest: string; artifactType?: string }[] };
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(index.manifests).toEqual([expect.objectContaining({ digest: sha256(referrer), artifactType: 'application/spdx+json' })]);
  });
});
