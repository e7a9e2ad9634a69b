// Registry decorators for dry runs: the target records what a copy would write instead of writing it; the source opens blobs only when read.
import { Readable } from 'node:stream';
import { DelegatingRegistry } from './delegating-registry.ts';
import { digestOf, isDigest } from './digest.ts';
import { OciError } from './errors.ts';
import { parseManifest } from './manifest.ts';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader, Registry } from './registry.ts';
import type { Descriptor, Manifest } from './types.ts';

/** One write a dry run held back. */
export type PlannedWrite =
  | { readonly kind: 'blob-upload'; readonly repository: string; readonly digest: string; readonly size: number }
  | { readonly kind: 'blob-mount'; readonly repository: string; readonly digest: string; readonly from: string }
  | {
      readonly kind: 'manifest';
      readonly repository: string;
      /** Tag or digest the manifest would be PUT under. */
      readonly reference: string;
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      /** For a tag: the digest it names now (undefined when the tag is new). */
      readonly previous?: string;
    };

/**
 * A target that never writes. Reads go to the real registry, overlaid with what this dry run would
 * have written, so that the copy engine takes exactly the decisions (skip, mount, upload, tag) a
 * real copy would take, and its own checks ("is the manifest there after the PUT?") pass.
 * A mount is assumed to be accepted (a registry that declines makes the real copy upload instead).
 */
export class DryRunTarget extends DelegatingRegistry {
  readonly writes: PlannedWrite[] = [];
  private readonly blobs = new Map<string, number>();
  private readonly manifests = new Map<string, Manifest>();

  constructor(inner: Registry) {
    super(inner);
  }

  override async manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    const m = this.manifests.get(`${repository}@${reference}`);
    if (m !== undefined) return { mediaType: m.mediaType, digest: m.digest, size: m.raw.length };
    return this.inner.manifestHead(repository, reference);
  }

  override async manifestGet(repository: string, reference: string): Promise<Manifest> {
    return this.manifests.get(`${repository}@${reference}`) ?? this.inner.manifestGet(repository, reference);
  }

  override async manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    const digest = digestOf(manifest.raw);
    const previous = isDigest(reference) ? undefined : (await this.inner.manifestHead(repository, reference))?.digest;
    this.writes.push({
      kind: 'manifest', repository, reference, digest, mediaType: manifest.mediaType, size: manifest.raw.length,
      ...(previous !== undefined ? { previous } : {}),
    });
    const parsed = parseManifest(manifest.raw, manifest.mediaType);
    this.manifests.set(`${repository}@${digest}`, parsed);
    this.manifests.set(`${repository}@${reference}`, parsed);
    return digest;
  }

  override async manifestDelete(repository: string, digest: string): Promise<void> {
    throw new OciError(`dry run: refusing to delete ${this.host}/${repository}@${digest}`, { code: 'UNSUPPORTED', registry: this.host });
  }

  override async blobHead(repository: string, digest: string): Promise<number | undefined> {
    return this.blobs.get(`${repository}@${digest}`) ?? this.inner.blobHead(repository, digest);
  }

  override async blobPut(repository: string, blob: { digest: string; size: number }, body: Readable | BlobOpener, _options?: BlobPutOptions): Promise<void> {
    // The source stream is lazy (DryRunSource): destroyed unread, it never opened a GET.
    if (typeof body !== 'function') body.destroy();
    this.writes.push({ kind: 'blob-upload', repository, digest: blob.digest, size: blob.size });
    this.blobs.set(`${repository}@${blob.digest}`, blob.size);
  }

  override async blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    this.writes.push({ kind: 'blob-mount', repository, digest, from: fromRepository });
    this.blobs.set(`${repository}@${digest}`, 0);
    return true;
  }

  override async tagList(repository: string): Promise<string[]> {
    const tags = new Set(await this.inner.tagList(repository).catch(() => [] as string[]));
    for (const w of this.writes) if (w.kind === 'manifest' && w.repository === repository && !isDigest(w.reference)) tags.add(w.reference);
    return [...tags];
  }
}

/**
 * A source whose blob streams open their GET on the first read: the copy engine opens the source
 * before the upload, and in a dry run the upload destroys the stream unread, so no layer is
 * downloaded. A blob that is read (an image config, for platform matching) is fetched as usual.
 */
export class DryRunSource extends DelegatingRegistry {
  constructor(inner: Registry) {
    super(inner);
  }

  override async blobGet(repository: string, digest: string, options?: BlobGetOptions): Promise<BlobReader> {
    const inner = this.inner;
    async function* lazy(): AsyncGenerator<Buffer> {
      const reader = await inner.blobGet(repository, digest, options);
      for await (const chunk of reader.stream) yield chunk as Buffer;
    }
    return { size: options?.expectedSize ?? -1, stream: Readable.from(lazy(), { objectMode: false }) };
  }
}
