import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../../../functions/oci/manifest.ts';
import { sha256Digest } from '../../../functions/oci/digest.ts';
import { MAX_MANIFEST_BYTES, MediaType } from '../../../functions/oci/media-types.ts';
import type { OciError } from '../../../functions/oci/errors.ts';

// Copies of the shared vectors live in test/fixtures/manifests (SOURCE.md there), so a clean clone runs them.
const DIR = resolve(fileURLToPath(import.meta.url), '../../../fixtures/manifests');
const vector = (name: string): Buffer => readFileSync(join(DIR, name));

describe('parseManifest with the shared vectors', () => {
  // The four byte-exact documents (SOURCE.md): their sha256 is the digest their source published.
  it.each([
    ['docker-schema2.aws-ecr-doc-testrepo.json', 'sha256:98c8b060c21d9adbb6b8c41b916e95e6307102786973ab93a41e8b86d1fc6d3e', 3023],
    ['docker-manifest-list.moby-buildkit-master-2022.json', 'sha256:4e078bb87be98cc2a0fcdac4a05ac934055d563bd3d23e4d714eb03a3f62b49e', 2010],
    ['oci-index-attestation.crazymax-buildkit-attest.json', 'sha256:7007b387ccd52bd42a050f2e8020e56e64622c9269bf7bbe257b326fe99daf19', 855],
    ['oci-index-attestations.moby-buildkit-master.json', 'sha256:d895e8fdcf5e2bb39acb5966f97fc4cd87a2d13d27c939c320025eb4aca5440c', 4654],
  ])('%s hashes to its published digest and keeps its raw bytes', (file, digest, size) => {
    // Prepare
    const raw = vector(file);
    // Act
    const m = parseManifest(raw, undefined, digest, { dockerContentDigest: digest });
    // Assess
    expect(raw.length).toBe(size);
    expect(m.digest).toBe(digest);
    expect(m.raw).toBe(raw);
  });

  it.each([
    ['docker-schema2.aws-ecr-doc-testrepo.json', { kind: 'image', mediaType: MediaType.DockerManifest, layers: 13, manifests: 0, artifactType: undefined, subject: false }],
    ['cosign-signature.cosign-usage-doc.json', { kind: 'image', mediaType: MediaType.DockerManifest, layers: 2, manifests: 0, artifactType: undefined, subject: false }],
    ['docker-manifest-list.moby-buildkit-master-2022.json', { kind: 'index', mediaType: MediaType.DockerManifestList, layers: 0, manifests: 6, artifactType: undefined, subject: false }],
    ['oci-index-attestation.crazymax-buildkit-attest.json', { kind: 'index', mediaType: MediaType.OciIndex, layers: 0, manifests: 2, artifactType: undefined, subject: false }],
    ['oci-index-attestations.moby-buildkit-master.json', { kind: 'index', mediaType: MediaType.OciIndex, layers: 0, manifests: 12, artifactType: undefined, subject: false }],
    ['oci-artifact-minimal.image-spec-example.json', { kind: 'image', mediaType: MediaType.OciManifest, layers: 1, manifests: 0, artifactType: 'application/vnd.example+type', subject: false }],
    ['oci-artifact-with-subject.oras-docs.json', { kind: 'image', mediaType: MediaType.OciManifest, layers: 1, manifests: 0, artifactType: 'application/example', subject: true }],
    ['oci-image-manifest-with-subject.image-spec-example.json', { kind: 'image', mediaType: MediaType.OciManifest, layers: 3, manifests: 0, artifactType: undefined, subject: true }],
  ])('detects %s', (file, want) => {
    const m = parseManifest(vector(file), 'application/json');
    expect({
      kind: m.kind, mediaType: m.mediaType, layers: m.layers.length, manifests: m.manifests.length, artifactType: m.artifactType, subject: m.subject !== undefined,
    }).toEqual(want);
    expect(m.digest).toBe(sha256Digest(vector(file)));
  });

  it('keeps child platforms of a manifest list, arm/v7 included', () => {
    const m = parseManifest(vector('docker-manifest-list.moby-buildkit-master-2022.json'));
    expect(m.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}${d.platform?.variant ? `/${d.platform.variant}` : ''}`)).toContain('linux/arm/v7');
  });
});

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const desc = { mediaType: MediaType.OciLayer, digest: sha256Digest('x'), size: 1 };

describe('parseManifest rules', () => {
  it('lets the body mediaType win over a generic header (a different manifest type is refused: see below)', () => {
    const raw = json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
    expect(parseManifest(raw, 'application/octet-stream').mediaType).toBe(MediaType.OciIndex);
    expect(() => parseManifest(raw, `${MediaType.DockerManifestList}; charset=utf-8`)).toThrow(/differs from the Content-Type/);
  });

  it.each([
    ['the header', json({ schemaVersion: 2, config: desc, layers: [] }), MediaType.DockerManifest, MediaType.DockerManifest],
    ['the manifests field', json({ schemaVersion: 2, manifests: [] }), undefined, MediaType.OciIndex],
    ['the config field', json({ schemaVersion: 2, config: { ...desc, mediaType: MediaType.OciConfig }, layers: [] }), 'application/json', MediaType.OciManifest],
  ])('without a body mediaType, %s decides', (_n, raw, header, mediaType) => {
    expect(parseManifest(raw, header).mediaType).toBe(mediaType);
  });

  it('uses the config media type as artifactType of an OCI artifact without one', () => {
    const m = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...desc, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers: [desc] }));
    expect(m.artifactType).toBe('application/vnd.cncf.helm.config.v1+json');
  });

  it.each([
    ['schemaVersion 1', json({ schemaVersion: 1, name: 'a', tag: 'b', fsLayers: [] }), undefined],
    ['the signed schema1 header', json({ schemaVersion: 1 }), MediaType.DockerSchema1Signed],
    ['a schema1 body mediaType', json({ schemaVersion: 2, mediaType: MediaType.DockerSchema1 }), undefined],
  ])('refuses schema1 (%s) with a clear message', (_n, raw, header) => {
    const err = (() => {
      try {
        parseManifest(raw, header, undefined, { source: 'reg.example.com/old/app:1' });
      } catch (e) {
        return e as OciError;
      }
      throw new Error('no error');
    })();
    expect(err.code).toBe('UNSUPPORTED_MANIFEST');
    expect(err.message).toContain('reg.example.com/old/app:1 is Docker schema1, which is deprecated and unsupported');
    expect(err.message).toContain('skopeo copy --format v2s2');
  });

  it.each([
    ['not JSON', Buffer.from('<html>'), 'MANIFEST_INVALID'],
    ['no shape', json({ schemaVersion: 2 }), 'MANIFEST_INVALID'],
    ['a bad descriptor', json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { digest: 'x' }, layers: [] }), 'MANIFEST_INVALID'],
    ['an index without manifests', json({ schemaVersion: 2, mediaType: MediaType.OciIndex }), 'MANIFEST_INVALID'],
    ['an unknown media type', json({ schemaVersion: 2, mediaType: 'application/vnd.example.thing' }), 'UNSUPPORTED_MANIFEST'],
  ])('refuses %s', (_n, raw, code) => {
    expect(() => parseManifest(raw)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses a manifest over 4 MiB with MANIFEST_TOO_LARGE', () => {
    const raw = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    expect(() => parseManifest(raw)).toThrow(expect.objectContaining({ code: 'MANIFEST_TOO_LARGE' }));
  });

  it('checks the requested digest and the Docker-Content-Digest', () => {
    const raw = vector('oci-artifact-minimal.image-spec-example.json');
    const other = sha256Digest('other');
    expect(() => parseManifest(raw, undefined, other)).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
    expect(() => parseManifest(raw, undefined, undefined, { dockerContentDigest: other })).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
  });

  it.each([
    ['an index served as an image manifest', MediaType.OciIndex, MediaType.OciManifest],
    ['an OCI manifest served as a Docker manifest', MediaType.OciManifest, MediaType.DockerManifest],
  ])('rejects %s: the body mediaType must match the Content-Type (distribution-spec)', (_name, bodyType, contentType) => {
    const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: bodyType, manifests: [], config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest('{}'), size: 2 }, layers: [] }));
    expect(() => parseManifest(raw, `${contentType}; charset=utf-8`)).toThrow(/differs from the Content-Type/);
  });

  it('accepts a matching Content-Type and a generic application/json one', () => {
    const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }));
    expect(parseManifest(raw, MediaType.OciIndex).kind).toBe('index');
    expect(parseManifest(raw, 'application/json').kind).toBe('index');
  });
});
