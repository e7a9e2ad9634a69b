// The registry adapter interface: one per registry kind (ECR, Artifact Registry/GCR, ACR, Docker Hub, OCI).
import type { CredentialProvider } from '../oci/credentials.ts';
import type { Registry } from '../oci/registry.ts';
import type { RegistryKind } from '../config/types.ts';

/**
 * One image (a manifest digest) in a repository, with what the registry knows of it. The shape is
 * the retention inventory's image (functions/retention/inventory.ts), so a listing feeds the planner
 * as it is.
 */
export interface ImageInfo {
  readonly digest: string;
  /** Tags pointing at this digest (empty for untagged children and referrers). */
  readonly tags: readonly string[];
  readonly mediaType?: string;
  /** ISO time the registry recorded the push, when it knows it. */
  readonly pushedAt?: string;
  /** ISO time of the last pull, null when never pulled, absent when the registry does not say. */
  readonly lastPulledAt?: string | null;
  /**
   * Bytes: for an image, config plus layers; for an index, the registry's own figure (ECR's
   * `imageSizeInBytes` of an index is NOT the sum of its children).
   */
  readonly sizeBytes?: number;
  /** Child manifest digests of an index. */
  readonly manifests?: readonly string[];
  /** Digest of the manifest this one refers to (signatures, SBOMs, attestations). */
  readonly subject?: string;
  readonly artifactType?: string;
  /** Blobs of an image manifest (config and layers), for bytes-freed accounting. */
  readonly blobs?: readonly { readonly digest: string; readonly size: number }[];
}

export interface ListImagesOptions {
  /**
   * Read each manifest to fill `manifests`, `subject`, `artifactType` and `blobs` (one GET per
   * digest; Docker Hub adapters spend HEADs, never pulls, where they can). Default true.
   */
  readonly withManifests?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * A configured registry. Manifest get/head/put and blob traffic go through `oci` (the OCI client
 * with this registry's credentials); the adapter adds what the registry's own API does better:
 * listing with metadata, tagging without moving bytes, deletion, and credentials.
 */
export interface RegistryAdapter {
  /** Name in the configuration file. */
  readonly name: string;
  readonly kind: RegistryKind;
  /** Wire host (`host:port`) of the registry's OCI endpoint. */
  readonly host: string;
  /** Repository prefix this registry's repositories live under (GAR: project/repository), or ''. */
  readonly namespace: string;
  /** The OCI data plane for this registry, with its credentials plugged in. */
  readonly oci: Registry;
  /** Hands the OCI client (or another tool) this registry's credentials. */
  readonly credentials: CredentialProvider;
  /** Checks that the registry answers and that the credentials are accepted. */
  ping(): Promise<void>;
  listRepositories(): Promise<string[]>;
  listImages(repository: string, options?: ListImagesOptions): Promise<ImageInfo[]>;
  /** Points `tag` at an existing digest without moving blobs. */
  tagImage(repository: string, digest: string, tag: string): Promise<void>;
  /** Deletes a manifest by digest (its tags go with it). */
  deleteImage(repository: string, digest: string): Promise<void>;
  /** Releases sockets and timers. */
  close(): void;
}
