// The storage interface the copy engine depends on: one registry host, addressed per repository.
import type { Readable } from 'node:stream';
import type { Descriptor, Manifest } from './types.ts';

/** A blob being read: its size and a stream that errors with DIGEST_MISMATCH if the bytes are wrong. */
export interface BlobReader {
  readonly size: number;
  readonly stream: Readable;
}

/**
 * Opens the blob's bytes from an offset. Given instead of a stream, it lets an upload resume after a
 * failure from the offset the registry reports in its `Range` header.
 */
export type BlobOpener = (offset: number) => Promise<Readable>;

export interface BlobGetOptions {
  /** Expected size: a different Content-Length or byte count fails with SIZE_MISMATCH. */
  readonly expectedSize?: number;
  /**
   * Start at this byte (HTTP Range) to resume a read. A resumed stream cannot verify the digest on
   * its own; the target registry's digest check on commit covers it.
   */
  readonly offset?: number;
  readonly signal?: AbortSignal;
}

export interface BlobPutOptions {
  /** Upload in PATCH chunks of this many bytes (resuming from the server's Range on failure). */
  readonly chunkSize?: number;
  readonly signal?: AbortSignal;
  /** Called with the number of bytes sent so far. */
  readonly onBytes?: (sent: number) => void;
}

/**
 * One registry host. Methods are named noun-first (regclient style). Implementations: the HTTP
 * client in `client.ts`, and an in-memory registry for tests.
 */
export interface Registry {
  /** `host:port` identity: two handles with the same host can mount blobs between repositories. */
  readonly host: string;
  /** Descriptor of a manifest by tag or digest, or undefined when the registry does not have it. */
  manifestHead(repository: string, reference: string): Promise<Descriptor | undefined>;
  /** Fetches and parses a manifest; refuses schema1 and manifests over 4 MiB. */
  manifestGet(repository: string, reference: string): Promise<Manifest>;
  /**
   * Pushes the raw bytes unchanged under a tag or digest, with Content-Type = mediaType.
   * Returns the digest, checked against sha256(raw). A manifest with `subject` that the registry did
   * not process (no `OCI-Subject` header: no referrers API) is then added to the subject's
   * `sha256-<hex>` fallback index, as distribution-spec "Pushing Manifests with Subject" asks of clients.
   */
  manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string>;
  /** Deletes a manifest by digest (distribution refuses DELETE by tag). */
  manifestDelete(repository: string, digest: string): Promise<void>;
  /** Size of a blob, or undefined when the registry does not have it. */
  blobHead(repository: string, digest: string): Promise<number | undefined>;
  /** Streams a blob; the stream verifies the digest (and size when given) while bytes flow. */
  blobGet(repository: string, digest: string, options?: BlobGetOptions): Promise<BlobReader>;
  /**
   * Streams a blob up; never buffers it whole. Resolves once the registry has committed it (the
   * registry checks the digest on commit). With a `BlobOpener` and a `chunkSize`, uploads in PATCH
   * chunks and resumes from the registry's `Range` after a failure.
   */
  blobPut(
    repository: string,
    blob: { digest: string; size: number },
    body: Readable | BlobOpener,
    options?: BlobPutOptions,
  ): Promise<void>;
  /** Cross-repository mount; false when the registry declined (the caller then uploads). */
  blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean>;
  /** Every tag, following `Link` pagination. */
  tagList(repository: string): Promise<string[]>;
  /** Every repository, following `Link` pagination. */
  catalog(): Promise<string[]>;
  /**
   * OCI 1.1 referrers of a digest, or undefined when the registry has no referrers API
   * (the caller then uses the `sha256-<hex>` fallback tag schema).
   */
  referrers(repository: string, digest: string): Promise<Descriptor[] | undefined>;
}
