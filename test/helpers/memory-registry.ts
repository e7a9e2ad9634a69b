// An in-memory `Registry` for copy-engine tests: real behaviour over Maps, call counters, and fault hooks.
// It checks what distribution checks: blob digests on commit, Content-Type = mediaType, and that a
// manifest's blobs / an index's children exist before accepting it (so tests can prove push order).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { OciError } from '../../functions/oci/errors.ts';
import { MediaType } from '../../functions/oci/media-types.ts';
import { parseManifest as parseOciManifest } from '../../functions/oci/manifest.ts';
import { addToFallbackIndex } from '../../functions/oci/referrers-fallback.ts';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader, Registry } from '../../functions/oci/registry.ts';
import type { Descriptor, Manifest, Platform } from '../../functions/oci/types.ts';

export type RegistryMethod = Exclude<keyof Registry, 'host'>;

export interface CallInfo {
  readonly method: RegistryMethod;
  readonly repository?: string;
  /** Tag or digest the call names. */
  readonly reference?: string;
  /** 1-based count of calls of this method so far, this one included. */
  readonly count: number;
}

export interface Fault {
  readonly method: RegistryMethod;
  /** Fires on the nth call of the method (1-based, counting only calls that pass `when`). */
  readonly nth?: number;
  readonly when?: (call: CallInfo) => boolean;
  /** How many times it fires. @default 1 with `nth`, else unlimited */
  readonly times?: number;
  /** Fail the call with this error (made fresh each time). */
  readonly error?: () => Error;
  /** blobGet only: serve a stream that breaks with `error` (or ECONNRESET) after this many bytes. */
  readonly breakStreamAfter?: number;
  /** Runs before the call is served: to abort a controller, or to wait. */
  readonly before?: (call: CallInfo) => void | Promise<void>;
}

interface StoredManifest {
  readonly raw: Buffer;
  readonly mediaType: string;
}

interface Repo {
  readonly blobs: Set<string>;
  readonly manifests: Map<string, StoredManifest>;
  readonly tags: Map<string, string>;
}

export interface MemoryRegistryOptions {
  /** @default 'memory.test:5000' */
  readonly host?: string;
  /** Answer `referrers()` like an OCI 1.1 registry. @default false (like distribution 2.8) */
  readonly referrersApi?: boolean;
  /**
   * Without the referrers API, a manifest with `subject` pushed here is added to its subject's
   * fallback index, as the HTTP client does for such registries (the `Registry.manifestPut` contract).
   * @default true
   */
  readonly maintainFallbackIndex?: boolean;
  /** Accept cross-repository mounts. @default true */
  readonly mount?: boolean;
}

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const isDigest = (ref: string): boolean => /^sha256:[0-9a-f]{64}$/.test(ref);
const STREAM_CHUNK = 16 * 1024;

function connectionReset(): Error {
  return Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' });
}

/** Parses raw manifest bytes the way the HTTP client does (enough for copy tests). */
export function parseManifest(raw: Buffer, mediaTypeHeader: string): Manifest {
  const json = JSON.parse(raw.toString('utf8')) as {
    mediaType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
    subject?: Descriptor;
    artifactType?: string;
    annotations?: Record<string, string>;
  };
  const mediaType = json.mediaType ?? mediaTypeHeader;
  const kind = json.manifests !== undefined ? 'index' : 'image';
  return {
    raw,
    digest: sha256(raw),
    mediaType,
    kind,
    ...(json.config ? { config: json.config } : {}),
    layers: json.layers ?? [],
    manifests: json.manifests ?? [],
    ...(json.subject ? { subject: json.subject } : {}),
    ...(json.artifactType ? { artifactType: json.artifactType } : {}),
    ...(json.annotations ? { annotations: json.annotations } : {}),
  };
}

/** A registry over Maps. Blob bytes are shared by digest; each repository links the blobs it may serve. */
export class MemoryRegistry implements Registry {
  readonly host: string;
  readonly referrersApi: boolean;
  readonly maintainFallbackIndex: boolean;
  readonly mount: boolean;
  /** Calls by method. */
  readonly calls: Record<string, number> = {};
  /** Every call in order, for order assertions. */
  readonly log: Array<{ method: RegistryMethod; repository?: string; reference?: string }> = [];
  /** The body form of each blobPut: a stream, or an opener (resumable chunked upload). */
  readonly blobPutBodies: Array<'stream' | 'opener'> = [];
  private readonly blobStore = new Map<string, Buffer>();
  private readonly repos = new Map<string, Repo>();
  private readonly faults: Array<Fault & { fired: number; seen: number }> = [];

  constructor(options: MemoryRegistryOptions = {}) {
    this.host = options.host ?? 'memory.test:5000';
    this.referrersApi = options.referrersApi ?? false;
    this.maintainFallbackIndex = options.maintainFallbackIndex ?? true;
    this.mount = options.mount ?? true;
  }

  /** Adds a fault; see {@link Fault}. */
  addFault(fault: Fault): void {
    this.faults.push({ ...fault, fired: 0, seen: 0 });
  }

  /** Forgets call counters and the log (after the Prepare step of a test). */
  resetCalls(): void {
    for (const k of Object.keys(this.calls)) delete this.calls[k];
    this.log.length = 0;
    this.blobPutBodies.length = 0;
  }

  /** Calls of `method` (0 when none). */
  count(method: RegistryMethod): number {
    return this.calls[method] ?? 0;
  }

  /** The tag's digest, or undefined. */
  tagDigest(repository: string, tag: string): string | undefined {
    return this.repos.get(repository)?.tags.get(tag);
  }

  /** Raw bytes of a stored manifest, or undefined. */
  rawManifest(repository: string, digest: string): Buffer | undefined {
    return this.repos.get(repository)?.manifests.get(digest)?.raw;
  }

  hasBlob(repository: string, digest: string): boolean {
    return this.repos.get(repository)?.blobs.has(digest) ?? false;
  }

  private repo(name: string, create = false): Repo | undefined {
    let r = this.repos.get(name);
    if (!r && create) {
      r = { blobs: new Set(), manifests: new Map(), tags: new Map() };
      this.repos.set(name, r);
    }
    return r;
  }

  /** Counts the call, runs faults; returns a fault that asks to break a stream, if any. */
  private async enter(method: RegistryMethod, repository?: string, reference?: string): Promise<Fault | undefined> {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.log.push({ method, ...(repository !== undefined ? { repository } : {}), ...(reference !== undefined ? { reference } : {}) });
    const call: CallInfo = { method, count: this.calls[method], ...(repository ? { repository } : {}), ...(reference ? { reference } : {}) };
    for (const f of this.faults) {
      if (f.method !== method || (f.when && !f.when(call))) continue;
      f.seen++;
      const times = f.times ?? (f.nth !== undefined ? 1 : Number.POSITIVE_INFINITY);
      if (f.fired >= times || (f.nth !== undefined && f.seen < f.nth)) continue;
      f.fired++;
      await f.before?.(call);
      if (f.breakStreamAfter !== undefined) return f;
      if (f.error) throw f.error();
    }
    return undefined;
  }

  private resolve(repository: string, reference: string): { digest: string; m: StoredManifest } | undefined {
    const r = this.repo(repository);
    if (!r) return undefined;
    const digest = isDigest(reference) ? reference : r.tags.get(reference);
    const m = digest ? r.manifests.get(digest) : undefined;
    return digest && m ? { digest, m } : undefined;
  }

  async manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    await this.enter('manifestHead', repository, reference);
    const found = this.resolve(repository, reference);
    return found ? { mediaType: found.m.mediaType, digest: found.digest, size: found.m.raw.length } : undefined;
  }

  async manifestGet(repository: string, reference: string): Promise<Manifest> {
    await this.enter('manifestGet', repository, reference);
    const found = this.resolve(repository, reference);
    if (!found) {
      throw new OciError(`manifest ${this.host}/${repository}:${reference} not found`, { code: 'MANIFEST_UNKNOWN', status: 404, registry: this.host });
    }
    return parseManifest(found.m.raw, found.m.mediaType);
  }

  async manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    await this.enter('manifestPut', repository, reference);
    const invalid = (msg: string, code: 'MANIFEST_INVALID' | 'BLOB_UNKNOWN' | 'DIGEST_MISMATCH' = 'MANIFEST_INVALID'): OciError =>
      new OciError(`${this.host}/${repository}:${reference}: ${msg}`, { code, status: 400, registry: this.host });
    let parsed: Manifest;
    try {
      parsed = parseManifest(manifest.raw, manifest.mediaType);
    } catch (err) {
      throw invalid(`manifest is not JSON: ${(err as Error).message}`);
    }
    if (parsed.mediaType !== manifest.mediaType) throw invalid(`Content-Type ${manifest.mediaType} differs from mediaType ${parsed.mediaType}`);
    const r = this.repo(repository);
    if (parsed.kind === 'index') {
      for (const child of parsed.manifests) {
        if (!r?.manifests.has(child.digest)) throw invalid(`index child ${child.digest} is not in the repository`);
      }
    } else {
      for (const b of [...(parsed.config ? [parsed.config] : []), ...parsed.layers]) {
        if (!r?.blobs.has(b.digest) && !(b.urls?.length ?? 0)) throw invalid(`blob ${b.digest} is not in the repository`, 'BLOB_UNKNOWN');
      }
    }
    const digest = sha256(manifest.raw);
    if (isDigest(reference) && reference !== digest) throw invalid(`bytes have digest ${digest}`, 'DIGEST_MISMATCH');
    const repo = this.repo(repository, true) as Repo;
    repo.manifests.set(digest, { raw: Buffer.from(manifest.raw), mediaType: manifest.mediaType });
    if (!isDigest(reference)) repo.tags.set(reference, digest);
    if (parsed.subject !== undefined && !this.referrersApi && this.maintainFallbackIndex) {
      await addToFallbackIndex(this, repository, parseOciManifest(manifest.raw, manifest.mediaType));
    }
    return digest;
  }

  async manifestDelete(repository: string, digest: string): Promise<void> {
    await this.enter('manifestDelete', repository, digest);
    const r = this.repo(repository);
    if (!r?.manifests.delete(digest)) {
      throw new OciError(`manifest ${digest} not found`, { code: 'MANIFEST_UNKNOWN', status: 404, registry: this.host });
    }
    for (const [tag, d] of r.tags) if (d === digest) r.tags.delete(tag);
  }

  async blobHead(repository: string, digest: string): Promise<number | undefined> {
    await this.enter('blobHead', repository, digest);
    return this.repo(repository)?.blobs.has(digest) ? this.blobStore.get(digest)?.length : undefined;
  }

  async blobGet(repository: string, digest: string, options: BlobGetOptions = {}): Promise<BlobReader> {
    const fault = await this.enter('blobGet', repository, digest);
    const data = this.repo(repository)?.blobs.has(digest) ? this.blobStore.get(digest) : undefined;
    if (!data) throw new OciError(`blob ${digest} not found in ${repository}`, { code: 'BLOB_UNKNOWN', status: 404, registry: this.host });
    if (options.expectedSize !== undefined && options.expectedSize !== data.length) {
      throw new OciError(`blob ${digest}: expected ${options.expectedSize} bytes, have ${data.length}`, { code: 'SIZE_MISMATCH' });
    }
    const body = data.subarray(options.offset ?? 0);
    const breakAt = fault?.breakStreamAfter;
    const makeError = fault?.error ?? connectionReset;
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let at = 0; at < body.length; at += STREAM_CHUNK) {
        if (breakAt !== undefined && at >= breakAt) throw makeError();
        options.signal?.throwIfAborted();
        yield body.subarray(at, at + STREAM_CHUNK);
        // Yield to the event loop so concurrency and aborts behave as with sockets.
        await new Promise((r) => setImmediate(r));
      }
      if (breakAt !== undefined) throw makeError();
    }
    return { size: body.length, stream: Readable.from(chunks(), { objectMode: false }) };
  }

  async blobPut(
    repository: string,
    blob: { digest: string; size: number },
    body: Readable | BlobOpener,
    options: BlobPutOptions = {},
  ): Promise<void> {
    await this.enter('blobPut', repository, blob.digest);
    this.blobPutBodies.push(typeof body === 'function' ? 'opener' : 'stream');
    const stream = typeof body === 'function' ? await body(0) : body;
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let sent = 0;
    try {
      for await (const chunk of stream) {
        options.signal?.throwIfAborted();
        const b = chunk as Buffer;
        hash.update(b);
        parts.push(b);
        sent += b.length;
        options.onBytes?.(sent);
      }
    } catch (err) {
      stream.destroy();
      throw err;
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== blob.digest || sent !== blob.size) {
      throw new OciError(`blob upload to ${repository}: got ${digest} (${sent} bytes), expected ${blob.digest} (${blob.size} bytes)`, {
        code: 'DIGEST_MISMATCH',
        status: 400,
        registry: this.host,
      });
    }
    this.blobStore.set(digest, Buffer.concat(parts));
    this.repo(repository, true)?.blobs.add(digest);
  }

  async blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    await this.enter('blobMount', repository, digest);
    if (!this.mount || !this.repo(fromRepository)?.blobs.has(digest)) return false;
    this.repo(repository, true)?.blobs.add(digest);
    return true;
  }

  async tagList(repository: string): Promise<string[]> {
    await this.enter('tagList', repository);
    const r = this.repo(repository);
    if (!r) throw new OciError(`repository ${repository} not found`, { code: 'NAME_UNKNOWN', status: 404, registry: this.host });
    return [...r.tags.keys()].sort();
  }

  async catalog(): Promise<string[]> {
    await this.enter('catalog');
    return [...this.repos.keys()].sort();
  }

  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    await this.enter('referrers', repository, digest);
    if (!this.referrersApi) return undefined;
    const out: Descriptor[] = [];
    for (const [d, m] of this.repo(repository)?.manifests ?? []) {
      const parsed = parseManifest(m.raw, m.mediaType);
      if (parsed.subject?.digest !== digest) continue;
      const artifactType = parsed.artifactType ?? parsed.config?.mediaType;
      out.push({ mediaType: m.mediaType, digest: d, size: m.raw.length, ...(artifactType ? { artifactType } : {}) });
    }
    return out;
  }
}

// --- Synthetic content, pushed through the Registry interface (works against any implementation). ---

/** Deterministic pseudo-random bytes: `seed` names the content. */
export function syntheticBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

async function putBlob(registry: Registry, repository: string, data: Buffer, mediaType: string): Promise<Descriptor> {
  const digest = sha256(data);
  if ((await registry.blobHead(repository, digest)) === undefined) {
    await registry.blobPut(repository, { digest, size: data.length }, Readable.from([data]));
  }
  return { mediaType, digest, size: data.length };
}

async function putManifestJson(registry: Registry, repository: string, reference: string | undefined, json: object): Promise<Manifest> {
  const raw = Buffer.from(JSON.stringify(json));
  const mediaType = (json as { mediaType: string }).mediaType;
  const digest = sha256(raw);
  await registry.manifestPut(repository, reference ?? digest, { raw, mediaType });
  return parseManifest(raw, mediaType);
}

export interface SyntheticImageOptions {
  /** Layer contents (or sizes, filled from `seed`). */
  readonly layers: ReadonlyArray<Buffer | number>;
  readonly platform?: Platform;
  /** Makes the config unique. @default the tag or 'image' */
  readonly seed?: string;
  readonly docker?: boolean;
  readonly subject?: Descriptor;
  readonly artifactType?: string;
}

/** Pushes an image manifest (config + layers) and tags it when `tag` is given. */
export async function pushImage(registry: Registry, repository: string, tag: string | undefined, opts: SyntheticImageOptions): Promise<Manifest> {
  const seed = opts.seed ?? tag ?? 'image';
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerType = opts.docker ? MediaType.DockerLayer : MediaType.OciLayer;
  const layers: Descriptor[] = [];
  for (const [i, l] of opts.layers.entries()) {
    const data = typeof l === 'number' ? syntheticBytes(`${seed}/layer${i}`, l) : l;
    layers.push(await putBlob(registry, repository, data, layerType));
  }
  const config = await putBlob(
    registry,
    repository,
    Buffer.from(JSON.stringify({ ...platform, seed, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })),
    opts.docker ? MediaType.DockerConfig : MediaType.OciConfig,
  );
  return putManifestJson(registry, repository, tag, {
    schemaVersion: 2,
    mediaType: opts.docker ? MediaType.DockerManifest : MediaType.OciManifest,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config,
    layers,
    ...(opts.subject ? { subject: opts.subject } : {}),
  });
}

/** Pushes an index (or Docker manifest list) of already pushed images. */
export async function pushIndex(
  registry: Registry,
  repository: string,
  tag: string | undefined,
  children: ReadonlyArray<{ manifest: Manifest; platform: Platform }>,
  opts: { docker?: boolean } = {},
): Promise<Manifest> {
  return putManifestJson(registry, repository, tag, {
    schemaVersion: 2,
    mediaType: opts.docker ? MediaType.DockerManifestList : MediaType.OciIndex,
    manifests: children.map((c) => ({ mediaType: c.manifest.mediaType, digest: c.manifest.digest, size: c.manifest.raw.length, platform: c.platform })),
  });
}

/** Pushes a 3-platform OCI index whose images share one base layer; returns the index and children. */
export async function pushMultiPlatform(
  registry: Registry,
  repository: string,
  tag: string,
  opts: { docker?: boolean; sharedLayerSize?: number; layerSize?: number } = {},
): Promise<{ index: Manifest; children: Manifest[]; shared: Buffer }> {
  const shared = syntheticBytes(`${repository}/${tag}/shared`, opts.sharedLayerSize ?? 40_000);
  const platforms: Platform[] = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
  ];
  const children: Manifest[] = [];
  for (const p of platforms) {
    children.push(
      await pushImage(registry, repository, undefined, {
        layers: [shared, opts.layerSize ?? 20_000],
        platform: p,
        seed: `${repository}/${tag}/${p.architecture}${p.variant ?? ''}`,
        ...(opts.docker ? { docker: true } : {}),
      }),
    );
  }
  const index = await pushIndex(registry, repository, tag, children.map((manifest, i) => ({ manifest, platform: platforms[i] as Platform })), opts);
  return { index, children, shared };
}

/** Pushes an OCI 1.1 artifact (an SBOM) whose `subject` is `subject`; no tag. */
export async function pushReferrer(registry: Registry, repository: string, subject: Manifest, artifactType = 'application/spdx+json'): Promise<Manifest> {
  const empty = await putBlob(registry, repository, Buffer.from('{}'), MediaType.OciEmpty);
  const body = await putBlob(registry, repository, Buffer.from(JSON.stringify({ sbomFor: subject.digest })), artifactType);
  return putManifestJson(registry, repository, undefined, {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType,
    config: empty,
    layers: [body],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.raw.length },
  });
}

/** Maintains the `sha256-<hex>` fallback tag: an index listing the referrers of `subject`. */
export async function pushFallbackIndex(registry: Registry, repository: string, subject: Manifest, referrers: readonly Manifest[]): Promise<Manifest> {
  return putManifestJson(registry, repository, subject.digest.replace(':', '-'), {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: referrers.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.raw.length,
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
    })),
  });
}

/** Pushes a cosign-style signature image under the `sha256-<hex>.sig` tag of `subject`. */
export async function pushCosignSignature(registry: Registry, repository: string, subject: Manifest): Promise<Manifest> {
  const payload = Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' } }));
  const layer = await putBlob(registry, repository, payload, 'application/vnd.dev.cosign.simplesigning.v1+json');
  const config = await putBlob(registry, repository, Buffer.from(JSON.stringify({ sig: subject.digest })), MediaType.OciConfig);
  return putManifestJson(registry, repository, `${subject.digest.replace(':', '-')}.sig`, {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: [{ ...layer, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ...' } }],
  });
}
