// A Registry that forwards every call to another one: the base of decorators that change one or two calls.
import type { Readable } from 'node:stream';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader, Registry } from './registry.ts';
import type { Descriptor, Manifest } from './types.ts';

/**
 * Forwards everything to `inner`. A decorator (a manifest cache, a view answering tags from an API)
 * extends it and overrides only the calls it changes, so a method added to Registry reaches every
 * decorator at once instead of being forgotten in one of them.
 */
export class DelegatingRegistry implements Registry {
  readonly host: string;

  constructor(protected readonly inner: Registry) {
    this.host = inner.host;
  }

  manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    return this.inner.manifestHead(repository, reference);
  }
  manifestGet(repository: string, reference: string): Promise<Manifest> {
    return this.inner.manifestGet(repository, reference);
  }
  manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    return this.inner.manifestPut(repository, reference, manifest);
  }
  manifestDelete(repository: string, digest: string): Promise<void> {
    return this.inner.manifestDelete(repository, digest);
  }
  blobHead(repository: string, digest: string): Promise<number | undefined> {
    return this.inner.blobHead(repository, digest);
  }
  blobGet(repository: string, digest: string, options?: BlobGetOptions): Promise<BlobReader> {
    return this.inner.blobGet(repository, digest, options);
  }
  blobPut(repository: string, blob: { digest: string; size: number }, body: Readable | BlobOpener, options?: BlobPutOptions): Promise<void> {
    return this.inner.blobPut(repository, blob, body, options);
  }
  blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    return this.inner.blobMount(repository, digest, fromRepository);
  }
  tagList(repository: string): Promise<string[]> {
    return this.inner.tagList(repository);
  }
  catalog(): Promise<string[]> {
    return this.inner.catalog();
  }
  referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    return this.inner.referrers(repository, digest);
  }
}
