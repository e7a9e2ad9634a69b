// The HTTP implementation of `Registry`: one registry host, every call through one Transport.
import type { Readable } from 'node:stream';
import { OciError, isOciError } from './errors.ts';
import { digestProblem, isDigest, sha256Digest } from './digest.ts';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, MediaType } from './media-types.ts';
import { manifestTooLarge, parseManifest } from './manifest.ts';
import { addToFallbackIndex } from './referrers-fallback.ts';
import { blobGet, blobHead, blobMount, blobPut } from './blob.ts';
import { repositoryProblem, tagProblem } from './reference.ts';
import { drain, header, Transport, type TransportOptions } from './transport.ts';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader, Registry } from './registry.ts';
import type { Descriptor, Manifest } from './types.ts';

/** Options of a RegistryClient; see TransportOptions for each. */
export type RegistryClientOptions = TransportOptions;

/** How long a 404 from the referrers endpoint is believed for a repository before asking again. */
const NO_REFERRERS_API_TTL_MS = 5 * 60 * 1000;
/** Page size asked for in tag and catalog listings (distribution's tags/list ignores it). */
const PAGE_SIZE = 1000;
/** A listing page is JSON of names; far below this. */
const MAX_LIST_BYTES = 16 * 1024 * 1024;

/**
 * A registry over HTTP (distribution-spec). Every request goes through one Transport that owns
 * auth, retries and concurrency for the host.
 *
 * @example
 * const reg = new RegistryClient({ host: '127.0.0.1:5000', plainHttp: true });
 * const m = await reg.manifestGet('team/app', '1.0');
 */
export class RegistryClient implements Registry {
  readonly host: string;
  readonly transport: Transport;
  /** Repositories whose referrers endpoint answered 404 (no API), and when. */
  private readonly noReferrersApi = new Map<string, number>();

  constructor(options: RegistryClientOptions) {
    this.host = options.host;
    this.transport = new Transport(options);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.transport.close();
  }

  /** GET /v2/ with auth: resolves when the registry answers and accepts our credentials. */
  async ping(): Promise<void> {
    const res = await this.transport.request({ method: 'GET', path: '/v2/', expect: [200], description: 'GET /v2/ (API check)' });
    await drain(res.body);
  }

  async manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    checkTarget(repository, reference);
    const res = await this.transport.request({
      method: 'HEAD', repository, path: manifestPath(repository, reference), expect: [200, 404],
      headers: { accept: MANIFEST_ACCEPT }, description: `HEAD manifest ${repository}:${reference}`,
    });
    await drain(res.body);
    if (res.status === 404) return undefined;
    const digest = header(res.headers, 'docker-content-digest') ?? (isDigest(reference) ? reference : undefined);
    const mediaType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    const size = Number(header(res.headers, 'content-length'));
    if (digest === undefined || mediaType === undefined || !Number.isFinite(size)) {
      // Some registries leave these out of HEAD; the GET tells us for sure.
      const m = await this.manifestGet(repository, reference);
      return { mediaType: m.mediaType, digest: m.digest, size: m.raw.length };
    }
    return { mediaType, digest, size };
  }

  async manifestGet(repository: string, reference: string): Promise<Manifest> {
    checkTarget(repository, reference);
    const source = `${this.host}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.transport.requestBuffer(
      {
        method: 'GET', repository, path: manifestPath(repository, reference), expect: [200],
        headers: { accept: MANIFEST_ACCEPT }, description: `GET manifest ${repository}:${reference}`,
      },
      MAX_MANIFEST_BYTES,
      () => manifestTooLarge(source),
      (r) => {
        // Refuse before reading when the registry says up front that it is too big.
        const length = Number(header(r.headers, 'content-length'));
        if (Number.isFinite(length) && length > MAX_MANIFEST_BYTES) throw manifestTooLarge(source, length);
      },
    );
    const raw = res.body;
    const dcd = header(res.headers, 'docker-content-digest');
    return parseManifest(raw, header(res.headers, 'content-type'), isDigest(reference) ? reference : undefined, {
      source,
      ...(dcd !== undefined ? { dockerContentDigest: dcd } : {}),
    });
  }

  async manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    checkTarget(repository, reference);
    if (manifest.raw.length > MAX_MANIFEST_BYTES) throw manifestTooLarge(`${this.host}/${repository}:${reference}`, manifest.raw.length);
    const digest = sha256Digest(manifest.raw);
    if (isDigest(reference) && reference !== digest) {
      throw new OciError(`PUT manifest ${repository}@${reference}: the bytes hash to ${digest}, not to the digest given`, { code: 'DIGEST_MISMATCH' });
    }
    const res = await this.transport.request({
      method: 'PUT', repository, path: manifestPath(repository, reference), expect: [201], actions: ['pull', 'push'],
      // distribution answers 400 when Content-Type differs from the body's mediaType.
      headers: { 'content-type': manifest.mediaType },
      body: manifest.raw,
      description: `PUT manifest ${repository}:${reference}`,
    });
    await drain(res.body);
    const returned = header(res.headers, 'docker-content-digest');
    if (returned !== undefined && returned !== digest) {
      throw new OciError(
        `PUT manifest ${repository}:${reference} on ${this.host}: the registry stored it as ${returned}, but the bytes hash to ${digest}; it rewrote the manifest`,
        { code: 'DIGEST_MISMATCH', registry: this.host },
      );
    }
    // A registry that processed the manifest's subject says so with OCI-Subject; without it, the
    // client keeps the subject's fallback tag index itself (distribution-spec "Pushing Manifests with Subject").
    if (header(res.headers, 'oci-subject') === undefined) {
      const referrer = subjectOf(manifest);
      if (referrer !== undefined) await addToFallbackIndex(this, repository, referrer);
    }
    return digest;
  }

  async manifestDelete(repository: string, digest: string): Promise<void> {
    const problem = digestProblem(digest);
    if (problem !== undefined) {
      throw new OciError(`delete manifest ${repository}:${digest}: manifests are deleted by digest (${problem})`, { code: 'INVALID_REFERENCE' });
    }
    checkTarget(repository, digest);
    const res = await this.transport.request({
      method: 'DELETE', repository, path: manifestPath(repository, digest), expect: [202], actions: ['pull', 'push', 'delete'],
      description: `DELETE manifest ${repository}@${digest}`,
    });
    await drain(res.body);
  }

  blobHead(repository: string, digest: string): Promise<number | undefined> {
    checkRepository(repository);
    return blobHead(this.transport, repository, digest);
  }

  blobGet(repository: string, digest: string, options?: BlobGetOptions): Promise<BlobReader> {
    checkRepository(repository);
    return blobGet(this.transport, repository, digest, options);
  }

  blobPut(repository: string, blob: { digest: string; size: number }, body: Readable | BlobOpener, options?: BlobPutOptions): Promise<void> {
    checkRepository(repository);
    return blobPut(this.transport, repository, blob, body, options);
  }

  blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    checkRepository(repository);
    checkRepository(fromRepository);
    return blobMount(this.transport, repository, digest, fromRepository);
  }

  /**
   * Every tag of a repository. A repository with no tags (only untagged manifests, e.g. the
   * children of an index pushed before its tag) answers 404 NAME_UNKNOWN on distribution 2.8: that
   * is an empty list, not an error.
   */
  async tagList(repository: string): Promise<string[]> {
    checkRepository(repository);
    try {
      return await this.paginate<{ tags?: string[] | null }>(
        { path: `/v2/${repository}/tags/list`, repository, description: `list tags of ${repository}` },
        (page) => page.tags ?? [],
      );
    } catch (err) {
      if (isOciError(err, 'NAME_UNKNOWN')) return [];
      throw err;
    }
  }

  async catalog(): Promise<string[]> {
    return this.paginate<{ repositories?: string[] | null }>(
      { path: '/v2/_catalog', scopes: ['registry:catalog:*'], description: 'list repositories (catalog)' },
      (page) => page.repositories ?? [],
    );
  }

  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    checkTarget(repository, digest);
    // A registry without the API answers every digest 404: ask once per repository for a while, not
    // once per tag of a repository sync (the 1,000-tag no-op re-sync spent a GET per tag on it).
    const noApiSince = this.noReferrersApi.get(repository);
    if (noApiSince !== undefined && performance.now() - noApiSince < NO_REFERRERS_API_TTL_MS) return undefined;
    const res = await this.transport.requestBuffer(
      {
        method: 'GET', repository, path: `/v2/${repository}/referrers/${digest}`, expect: [200, 404],
        headers: { accept: MediaType.OciIndex }, description: `GET referrers of ${repository}@${digest}`,
      },
      MAX_MANIFEST_BYTES,
      () => manifestTooLarge(`referrers of ${repository}@${digest}`),
    );
    // distribution 2.8 has no referrers API: a 404 (its router's "page not found") means "use the fallback tag".
    if (res.status === 404) {
      this.noReferrersApi.set(repository, performance.now());
      return undefined;
    }
    this.noReferrersApi.delete(repository);
    const raw = res.body;
    return [...parseManifest(raw, MediaType.OciIndex, undefined, { source: `referrers of ${this.host}/${repository}@${digest}` }).manifests];
  }

  /** Follows `Link: <…>; rel="next"` pages (distribution-spec "Listing Tags" and `_catalog`). */
  private async paginate<T>(
    first: { path: string; repository?: string; scopes?: string[]; description: string },
    items: (page: T) => string[],
  ): Promise<string[]> {
    const all: string[] = [];
    let path: string | undefined = first.path;
    let query: Record<string, string> | undefined = { n: String(PAGE_SIZE) };
    const seen = new Set<string>();
    while (path !== undefined) {
      const key = path + JSON.stringify(query ?? {});
      if (seen.has(key)) break; // a registry that links a page to itself would loop forever
      seen.add(key);
      const res = await this.transport.requestBuffer(
        {
          method: 'GET', path, expect: [200], description: first.description,
          ...(query ? { query } : {}),
          ...(first.repository ? { repository: first.repository } : {}),
          ...(first.scopes ? { scopes: first.scopes } : {}),
        },
        MAX_LIST_BYTES,
      );
      let page: T;
      try {
        page = JSON.parse(res.body.toString('utf8')) as T;
      } catch (err) {
        throw new OciError(`${first.description} on ${this.host}: the answer is not JSON`, { code: 'PROTOCOL', cause: err, registry: this.host });
      }
      all.push(...items(page));
      const next = nextLink(header(res.headers, 'link'));
      path = next === undefined ? undefined : this.transport.resolve(next, undefined).toString();
      query = undefined;
    }
    return all;
  }
}

/** The target of `rel="next"` in a Link header, e.g. `</v2/_catalog?last=b&n=2>; rel="next"`. */
export function nextLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m?.[1] !== undefined && /\brel\s*=\s*"?next"?/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** The parsed manifest when it has a `subject` (a referrer), else undefined. Cheap for the common case. */
function subjectOf(manifest: Pick<Manifest, 'raw' | 'mediaType'>): Manifest | undefined {
  if (!manifest.raw.includes('"subject"')) return undefined;
  try {
    const m = parseManifest(manifest.raw, manifest.mediaType);
    return m.subject !== undefined ? m : undefined;
  } catch {
    return undefined; // the registry accepted it; a manifest we cannot parse is not ours to index
  }
}

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

function checkRepository(repository: string): void {
  const problem = repositoryProblem(repository);
  if (problem !== undefined) throw new OciError(`invalid repository "${repository}": ${problem}`, { code: 'INVALID_REFERENCE' });
}

function checkTarget(repository: string, reference: string): void {
  checkRepository(repository);
  const problem = reference.includes(':') ? digestProblem(reference) : tagProblem(reference);
  if (problem !== undefined) throw new OciError(`invalid reference "${repository}:${reference}": ${problem}`, { code: 'INVALID_REFERENCE' });
}
