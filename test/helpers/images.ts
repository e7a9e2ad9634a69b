// Pushes synthetic images, indexes, signatures and SBOM referrers to test registries, through raw-push.ts.
import { randomBytes } from 'node:crypto';
import { RawRegistryClient, sha256Digest, type AuthOptions, type RegistryTarget } from './raw-push.ts';

export { sha256Digest, type AuthOptions, type RegistryTarget } from './raw-push.ts';

/** Media types, spelled out here rather than imported: the fixtures must not depend on the product's code. */
export const FixtureMediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  CosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  DsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  SpdxJson: 'application/spdx+json',
} as const;

/** The OCI empty descriptor's content, `{}`: https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidance-for-an-empty-descriptor */
const EMPTY_JSON = Buffer.from('{}');

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A blob the fixture pushed; `data` is kept for small blobs so tests can compare bytes. */
export interface PushedBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly data?: Buffer;
}

/** A manifest the fixture pushed, with its exact bytes: sha256(raw) === digest. */
export interface PushedManifest {
  readonly repo: string;
  /** The tag it was pushed under; undefined when pushed by digest only. */
  readonly tag: string | undefined;
  readonly digest: string;
  readonly mediaType: string;
  readonly raw: Buffer;
  readonly size: number;
  /** Its descriptor, as a parent index or a referrer would list it. */
  readonly descriptor: Descriptor;
}

export interface PushedImage extends PushedManifest {
  readonly config: PushedBlob;
  readonly layers: readonly PushedBlob[];
  /** Config then layers. */
  readonly blobs: readonly PushedBlob[];
}

export interface PushedIndex extends PushedManifest {
  readonly children: readonly PushedImage[];
  /** The layer every child shares (for dedup tests). */
  readonly sharedLayer: PushedBlob;
  /** Every distinct blob below the index. */
  readonly blobs: readonly PushedBlob[];
}

export interface PushedReferrer extends PushedImage {
  /** The referrers fallback tag, `sha256-<hex>` of the subject. */
  readonly fallbackTag: string;
  /** The fallback index after this push. */
  readonly fallbackIndex: PushedManifest;
}

export type ImageFormat = 'oci' | 'docker';

export interface PushImageOptions extends AuthOptions {
  /** Layer sizes (random bytes) or contents. Default: one 1 KiB random layer. */
  readonly layers?: readonly (number | Buffer)[];
  /** `os/arch[/variant]`; default `linux/amd64`. */
  readonly platform?: string;
  /** Default `oci`. */
  readonly format?: ImageFormat;
  readonly annotations?: Readonly<Record<string, string>>;
  /** The config blob's `created` date, and labels added to `config.Labels` (default: neither, as reproducible builds). */
  readonly config?: { readonly created?: string; readonly labels?: Readonly<Record<string, string>> };
}

export interface PushIndexOptions extends AuthOptions {
  /** Per-platform layer sizes or contents, pushed after the shared layer. Default: one 512-byte layer. */
  readonly layers?: readonly (number | Buffer)[];
  /** Size of the layer every platform shares; default 2048. */
  readonly sharedLayerSize?: number;
}

export interface PushLargeImageOptions extends AuthOptions {
  readonly format?: ImageFormat;
  /** Layers uploaded at once; default 2. */
  readonly concurrency?: number;
  readonly platform?: string;
}

/**
 * Serializes a manifest to the bytes we push. Three-space indentation on purpose: a client that
 * re-serializes instead of copying the raw bytes changes the digest, and the tests notice.
 */
function manifestBytes(manifest: object): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 3));
}

export function parsePlatform(platform: string): Platform {
  const [os, architecture, variant] = platform.split('/');
  if (!os || !architecture) throw new Error(`bad platform "${platform}": expected os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

function types(format: ImageFormat): { manifest: string; config: string; layer: string; index: string } {
  return format === 'docker'
    ? { manifest: FixtureMediaType.DockerManifest, config: FixtureMediaType.DockerConfig, layer: FixtureMediaType.DockerLayer, index: FixtureMediaType.DockerManifestList }
    : { manifest: FixtureMediaType.OciManifest, config: FixtureMediaType.OciConfig, layer: FixtureMediaType.OciLayer, index: FixtureMediaType.OciIndex };
}

async function pushManifest(
  client: RawRegistryClient,
  repo: string,
  tag: string | undefined,
  manifest: { readonly mediaType: string; readonly [key: string]: unknown },
  extra: Omit<Descriptor, 'mediaType' | 'digest' | 'size'> = {},
): Promise<PushedManifest> {
  const raw = manifestBytes(manifest);
  const digest = sha256Digest(raw);
  await client.putManifest(repo, tag ?? digest, raw, manifest.mediaType);
  return { repo, tag, digest, mediaType: manifest.mediaType, raw, size: raw.length, descriptor: { mediaType: manifest.mediaType, digest, size: raw.length, ...extra } };
}

async function pushBlobData(client: RawRegistryClient, repo: string, data: Buffer, mediaType: string): Promise<PushedBlob> {
  const { digest, size } = await client.pushBlob(repo, data);
  return { digest, size, mediaType, data };
}

/** Pushes `size` random bytes as a blob. */
export async function pushRandomBlob(reg: RegistryTarget, repo: string, size: number, opts: AuthOptions = {}): Promise<PushedBlob> {
  return pushBlobData(new RawRegistryClient(reg, opts), repo, randomBytes(size), 'application/octet-stream');
}

/** Pushes given bytes as a blob. */
export async function pushBlob(reg: RegistryTarget, repo: string, data: Buffer, opts: AuthOptions = {}): Promise<PushedBlob> {
  return pushBlobData(new RawRegistryClient(reg, opts), repo, data, 'application/octet-stream');
}

/** Builds and pushes an image manifest over blobs already pushed (the config is built here). */
async function pushImageOver(
  client: RawRegistryClient,
  repo: string,
  tag: string | undefined,
  layers: readonly PushedBlob[],
  format: ImageFormat,
  platform: Platform,
  annotations?: Readonly<Record<string, string>>,
  diffIds?: readonly string[],
  configOptions?: PushImageOptions['config'],
): Promise<PushedImage> {
  const t = types(format);
  const configJson = {
    ...(configOptions?.created ? { created: configOptions.created } : {}),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Labels: { 'org.example.fixture': 'regman-test', ...configOptions?.labels } },
    rootfs: { type: 'layers', diff_ids: diffIds ?? layers.map((l) => l.digest) },
    history: layers.map(() => ({ created_by: 'regman test fixture' })),
  };
  const config = await pushBlobData(client, repo, Buffer.from(JSON.stringify(configJson)), t.config);
  const manifest = {
    schemaVersion: 2,
    mediaType: t.manifest,
    config: { mediaType: t.config, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ...(annotations && format === 'oci' ? { annotations } : {}),
  };
  const pushed = await pushManifest(client, repo, tag, manifest, { platform });
  return { ...pushed, config, layers, blobs: [config, ...layers] };
}

/**
 * Pushes a single-platform image: random (or given) layers, a config for the platform, the manifest.
 * With `tag` undefined the manifest is pushed by digest only.
 *
 * @example
 * const img = await pushImage(reg, 'team/app', 'v1', { layers: [1024, 4096], format: 'docker' });
 */
export async function pushImage(reg: RegistryTarget, repo: string, tag: string | undefined, opts: PushImageOptions = {}): Promise<PushedImage> {
  const client = new RawRegistryClient(reg, opts);
  const format = opts.format ?? 'oci';
  const layerType = types(format).layer;
  const layers: PushedBlob[] = [];
  for (const spec of opts.layers ?? [1024]) {
    layers.push(await pushBlobData(client, repo, typeof spec === 'number' ? randomBytes(spec) : spec, layerType));
  }
  return pushImageOver(client, repo, tag, layers, format, parsePlatform(opts.platform ?? 'linux/amd64'), opts.annotations, undefined, opts.config);
}

async function pushMultiPlatform(
  reg: RegistryTarget,
  repo: string,
  tag: string | undefined,
  platforms: readonly string[],
  format: ImageFormat,
  opts: PushIndexOptions,
): Promise<PushedIndex> {
  const client = new RawRegistryClient(reg, opts);
  const t = types(format);
  const sharedLayer = await pushBlobData(client, repo, randomBytes(opts.sharedLayerSize ?? 2048), t.layer);
  const children: PushedImage[] = [];
  for (const p of platforms) {
    const own: PushedBlob[] = [];
    for (const spec of opts.layers ?? [512]) {
      own.push(await pushBlobData(client, repo, typeof spec === 'number' ? randomBytes(spec) : spec, t.layer));
    }
    children.push(await pushImageOver(client, repo, undefined, [sharedLayer, ...own], format, parsePlatform(p)));
  }
  const index = {
    schemaVersion: 2,
    mediaType: t.index,
    manifests: children.map((c) => c.descriptor),
  };
  const pushed = await pushManifest(client, repo, tag, index);
  const blobs = new Map<string, PushedBlob>();
  for (const c of children) for (const b of c.blobs) blobs.set(b.digest, b);
  return { ...pushed, children, sharedLayer, blobs: [...blobs.values()] };
}

/** Pushes a multi-platform OCI index (children by digest, the index under `tag`); all children share one layer. */
export async function pushOciIndex(
  reg: RegistryTarget,
  repo: string,
  tag: string | undefined,
  platforms: readonly string[] = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
  opts: PushIndexOptions = {},
): Promise<PushedIndex> {
  return pushMultiPlatform(reg, repo, tag, platforms, 'oci', opts);
}

/** Pushes a Docker manifest list over Docker schema2 children; all children share one layer. */
export async function pushDockerManifestList(
  reg: RegistryTarget,
  repo: string,
  tag: string | undefined,
  platforms: readonly string[] = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
  opts: PushIndexOptions = {},
): Promise<PushedIndex> {
  return pushMultiPlatform(reg, repo, tag, platforms, 'docker', opts);
}

function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new Error(`expected a sha256 digest, got "${digest}"`);
  return m[1]!;
}

/** The cosign tag for a subject: `sha256-<hex>.sig` / `.att` / `.sbom`. */
export function cosignTag(subjectDigest: string, suffix: 'sig' | 'att' | 'sbom'): string {
  return `sha256-${digestHex(subjectDigest)}.${suffix}`;
}

/** Pushes a manifest in cosign's shape: an OCI config listing the layers, and the given layers. */
async function pushCosignShaped(
  client: RawRegistryClient,
  repo: string,
  tag: string,
  layers: readonly { data: Buffer; mediaType: string; annotations?: Record<string, string> }[],
): Promise<PushedImage> {
  const pushedLayers: PushedBlob[] = [];
  for (const l of layers) pushedLayers.push(await pushBlobData(client, repo, l.data, l.mediaType));
  const configJson = {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: pushedLayers.map((l) => l.digest) },
    config: {},
  };
  const config = await pushBlobData(client, repo, Buffer.from(JSON.stringify(configJson)), FixtureMediaType.OciConfig);
  const manifest = {
    schemaVersion: 2,
    mediaType: FixtureMediaType.OciManifest,
    config: { mediaType: FixtureMediaType.OciConfig, digest: config.digest, size: config.size },
    layers: pushedLayers.map((l, i) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      ...(layers[i]!.annotations ? { annotations: layers[i]!.annotations } : {}),
    })),
  };
  const pushed = await pushManifest(client, repo, tag, manifest);
  return { ...pushed, config, layers: pushedLayers, blobs: [config, ...pushedLayers] };
}

/**
 * Pushes a cosign-style signature of `subjectDigest` under `sha256-<hex>.sig`: a simplesigning payload
 * layer carrying a (fake) signature annotation, as `cosign sign` writes it.
 */
export async function pushCosignSignature(reg: RegistryTarget, repo: string, subjectDigest: string, opts: AuthOptions = {}): Promise<PushedImage> {
  const client = new RawRegistryClient(reg, opts);
  const payload = {
    critical: {
      identity: { 'docker-reference': `${client.base.host}/${repo}` },
      image: { 'docker-manifest-digest': subjectDigest },
      type: 'cosign container image signature',
    },
    optional: null,
  };
  return pushCosignShaped(client, repo, cosignTag(subjectDigest, 'sig'), [
    {
      data: Buffer.from(JSON.stringify(payload)),
      mediaType: FixtureMediaType.CosignSimpleSigning,
      annotations: { 'dev.cosignproject.cosign/signature': randomBytes(64).toString('base64') },
    },
  ]);
}

/** Pushes a cosign-style attestation (`.att`, DSSE envelope) or attached SBOM (`.sbom`, SPDX) tag. */
export async function pushCosignAttachment(
  reg: RegistryTarget,
  repo: string,
  subjectDigest: string,
  kind: 'att' | 'sbom',
  opts: AuthOptions = {},
): Promise<PushedImage> {
  const client = new RawRegistryClient(reg, opts);
  const layer =
    kind === 'att'
      ? {
          data: Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify({ subject: subjectDigest })).toString('base64'), signatures: [] })),
          mediaType: FixtureMediaType.DsseEnvelope,
          annotations: { predicateType: 'https://slsa.dev/provenance/v0.2' },
        }
      : { data: spdxDocument(subjectDigest), mediaType: 'text/spdx+json' };
  return pushCosignShaped(client, repo, cosignTag(subjectDigest, kind), [layer]);
}

function spdxDocument(subjectDigest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: `sbom-of-${subjectDigest}`,
      documentNamespace: `https://example.invalid/spdx/${digestHex(subjectDigest)}`,
      creationInfo: { created: '2024-01-01T00:00:00Z', creators: ['Tool: regman-test-fixture'] },
      packages: [{ name: 'fixture', SPDXID: 'SPDXRef-Package-fixture', downloadLocation: 'NOASSERTION' }],
    }),
  );
}

/** Looks up a subject's descriptor (mediaType and size) with a HEAD. */
async function subjectDescriptor(client: RawRegistryClient, repo: string, subject: string | Descriptor): Promise<Descriptor> {
  if (typeof subject !== 'string') return { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  const res = await client.request('HEAD', `/v2/${repo}/manifests/${subject}`, {
    headers: {
      accept: [FixtureMediaType.OciIndex, FixtureMediaType.OciManifest, FixtureMediaType.DockerManifestList, FixtureMediaType.DockerManifest].join(', '),
    },
  });
  if (res.status !== 200) throw new Error(`subject ${repo}@${subject} not found (HTTP ${res.status})`);
  return { mediaType: String(res.headers['content-type']), digest: subject, size: Number(res.headers['content-length']) };
}

/**
 * Pushes an OCI 1.1 artifact referring to `subject` (`artifactType`, empty config, one layer) by digest, and
 * adds it to the referrers fallback tag `sha256-<hex>` (an OCI index), since distribution 2.8 has no
 * referrers API: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema
 */
export async function pushReferrer(
  reg: RegistryTarget,
  repo: string,
  subject: string | Descriptor,
  artifact: { artifactType: string; data: Buffer; layerMediaType?: string; annotations?: Readonly<Record<string, string>> },
  opts: AuthOptions = {},
): Promise<PushedReferrer> {
  const client = new RawRegistryClient(reg, opts);
  const subj = await subjectDescriptor(client, repo, subject);
  const config = await pushBlobData(client, repo, EMPTY_JSON, FixtureMediaType.OciEmpty);
  const layer = await pushBlobData(client, repo, artifact.data, artifact.layerMediaType ?? artifact.artifactType);
  const annotations = { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', ...artifact.annotations };
  const manifest = {
    schemaVersion: 2,
    mediaType: FixtureMediaType.OciManifest,
    artifactType: artifact.artifactType,
    config: { mediaType: FixtureMediaType.OciEmpty, digest: config.digest, size: config.size, data: EMPTY_JSON.toString('base64') },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subj.mediaType, digest: subj.digest, size: subj.size },
    annotations,
  };
  const pushed = await pushManifest(client, repo, undefined, manifest, { artifactType: artifact.artifactType, annotations });

  // The fallback tag: read the current index (if any), add this referrer once, push it back.
  const fallbackTag = `sha256-${digestHex(subj.digest)}`;
  const current = await client.getManifest(repo, fallbackTag);
  const entries: Descriptor[] = current ? (JSON.parse(current.raw.toString()) as { manifests?: Descriptor[] }).manifests ?? [] : [];
  if (!entries.some((d) => d.digest === pushed.digest)) entries.push(pushed.descriptor);
  const fallbackIndex = await pushManifest(client, repo, fallbackTag, { schemaVersion: 2, mediaType: FixtureMediaType.OciIndex, manifests: entries });
  return { ...pushed, config, layers: [layer], blobs: [config, layer], fallbackTag, fallbackIndex };
}

/** Pushes an SPDX SBOM as an OCI 1.1 referrer of `subject` (artifactType `application/spdx+json`). */
export async function pushSbomReferrer(reg: RegistryTarget, repo: string, subject: string | Descriptor, opts: AuthOptions = {}): Promise<PushedReferrer> {
  const digest = typeof subject === 'string' ? subject : subject.digest;
  return pushReferrer(reg, repo, subject, { artifactType: FixtureMediaType.SpdxJson, data: spdxDocument(digest) }, opts);
}

const CHUNK = 1024 * 1024;
const STAMP_EVERY = 64 * 1024;

/**
 * Pseudo-random bytes, fast: one random 1 MiB pool, copied per chunk and stamped with (layer nonce, chunk
 * number) every 64 KiB, so every layer and every chunk differs while costing a memcpy, not a CSPRNG run.
 */
async function* pseudoRandom(size: number, pool: Buffer): AsyncGenerator<Buffer> {
  const nonce = randomBytes(16);
  let left = size;
  for (let n = 0; left > 0; n++) {
    const len = Math.min(CHUNK, left);
    const chunk = Buffer.allocUnsafe(len);
    pool.copy(chunk, 0, 0, len);
    for (let off = 0; off + 24 <= len; off += STAMP_EVERY) {
      nonce.copy(chunk, off);
      chunk.writeDoubleLE(n, off + 16);
    }
    left -= len;
    yield chunk;
  }
}

/**
 * Pushes an image whose layers are streamed (never whole in memory) with pseudo-random content: for
 * benchmarks. Returns descriptors without data.
 *
 * @example
 * await pushLargeImage(reg, 'bench/big', 'v1', Array(8).fill(128 * 1024 * 1024));
 */
export async function pushLargeImage(
  reg: RegistryTarget,
  repo: string,
  tag: string | undefined,
  layerSizes: readonly number[],
  opts: PushLargeImageOptions = {},
): Promise<PushedImage> {
  const client = new RawRegistryClient(reg, opts);
  const format = opts.format ?? 'oci';
  const layerType = types(format).layer;
  const pool = randomBytes(CHUNK);
  const layers: PushedBlob[] = new Array<PushedBlob>(layerSizes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < layerSizes.length) {
      const i = next++;
      const { digest, size } = await client.pushBlobStream(repo, pseudoRandom(layerSizes[i]!, pool));
      layers[i] = { digest, size, mediaType: layerType };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, layerSizes.length)) }, worker));
  return pushImageOver(client, repo, tag, layers, format, parsePlatform(opts.platform ?? 'linux/amd64'));
}

/**
 * Pushes an image over layers already uploaded (e.g. streamed by a benchmark), with the config's
 * `rootfs.diff_ids` as given (the digests of the uncompressed layers).
 */
export async function pushImageOfLayers(
  reg: RegistryTarget,
  repo: string,
  tag: string | undefined,
  layers: readonly PushedBlob[],
  diffIds: readonly string[],
  opts: PushLargeImageOptions = {},
): Promise<PushedImage> {
  return pushImageOver(new RawRegistryClient(reg, opts), repo, tag, layers, opts.format ?? 'oci', parsePlatform(opts.platform ?? 'linux/amd64'), undefined, diffIds);
}

/**
 * Pushes a manifest in cosign's shape under `tag` with the given layers (payloads and annotations as
 * the test builds them): for signatures a test signs itself with a real key.
 */
export async function pushCosignLayers(
  reg: RegistryTarget,
  repo: string,
  tag: string,
  layers: readonly { data: Buffer; mediaType: string; annotations?: Record<string, string> }[],
  opts: AuthOptions = {},
): Promise<PushedImage> {
  return pushCosignShaped(new RawRegistryClient(reg, opts), repo, tag, layers);
}
