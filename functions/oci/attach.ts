// Attaches a file to an image as an OCI 1.1 referrer: an image manifest with `artifactType`, an empty config and `subject`.
// Spec: https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidelines-for-artifact-usage (as `oras attach` writes it).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { OciError } from './errors.ts';
import { MediaType } from './media-types.ts';
import { findReferrers } from './referrers.ts';
import type { Registry } from './registry.ts';

/** The OCI empty descriptor's content: https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidance-for-an-empty-descriptor */
const EMPTY = Buffer.from('{}');
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface AttachOptions {
  readonly artifactType: string;
  /** The file's name, recorded as `org.opencontainers.image.title` on its layer. */
  readonly fileName?: string;
  /** Time recorded as `org.opencontainers.image.created` (tests pin it). */
  readonly created?: Date;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface AttachResult {
  readonly digest: string;
  readonly subject: string;
  readonly artifactType: string;
  /** How a reader finds it: `api` (the registry indexed `subject`) or `fallback-tag` (the sha256-<hex> index). */
  readonly listedVia: 'api' | 'fallback-tag' | 'none';
}

/**
 * Uploads `data` and the empty config, then PUTs the referrer by digest. The client's manifestPut adds
 * it to the subject's fallback index when the registry answers without `OCI-Subject` (no referrers
 * API), so readers on either kind of registry find it.
 */
export async function attachArtifact(registry: Registry, repository: string, reference: string, data: Buffer, options: AttachOptions): Promise<AttachResult> {
  const subject = await registry.manifestHead(repository, reference);
  if (subject === undefined) {
    throw new OciError(`${registry.host}/${repository}:${reference} does not exist: push the image first, then attach to it`, { code: 'MANIFEST_UNKNOWN', registry: registry.host });
  }
  const layer = { mediaType: options.artifactType, digest: sha256(data), size: data.length };
  for (const [blob, bytes] of [[{ digest: sha256(EMPTY), size: EMPTY.length }, EMPTY], [layer, data]] as const) {
    if ((await registry.blobHead(repository, blob.digest)) === undefined) await registry.blobPut(repository, blob, Readable.from([bytes]));
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: options.artifactType,
    config: { mediaType: MediaType.OciEmpty, digest: sha256(EMPTY), size: EMPTY.length, data: EMPTY.toString('base64') },
    layers: [{ ...layer, ...(options.fileName !== undefined ? { annotations: { 'org.opencontainers.image.title': options.fileName } } : {}) }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.opencontainers.image.created': (options.created ?? new Date()).toISOString(), ...options.annotations },
  };
  const raw = Buffer.from(JSON.stringify(manifest));
  const digest = await registry.manifestPut(repository, sha256(raw), { raw, mediaType: MediaType.OciManifest });
  const found = await findReferrers(registry, repository, subject.digest);
  return { digest, subject: subject.digest, artifactType: options.artifactType, listedVia: found.descriptors.some((d) => d.digest === digest) ? found.source : 'none' };
}
