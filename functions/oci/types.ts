// Plain data types of the OCI client: references, descriptors, manifests. No behaviour lives here.

/** A parsed image reference with every default applied (docker.io, library/, latest). */
export interface Reference {
  /** Registry host as used on the wire, with port: `docker.io`, `127.0.0.1:5000`. */
  readonly registry: string;
  /** Repository path: `library/alpine`, `team/app`. */
  readonly repository: string;
  /** Tag, when the reference named one (or `latest` when it named neither tag nor digest). */
  readonly tag?: string;
  /** `sha256:<hex>` when the reference pinned a digest. */
  readonly digest?: string;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
}

/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/**
 * A manifest as fetched: the exact bytes (pushed back unchanged, since re-serializing would change
 * the digest) plus the parsed fields the copy engine needs.
 */
export interface Manifest {
  readonly raw: Buffer;
  readonly digest: string;
  readonly mediaType: string;
  readonly kind: 'image' | 'index';
  /** Image manifests: the config blob. */
  readonly config?: Descriptor;
  /** Image manifests: the layers (blobs). Empty for an index. */
  readonly layers: readonly Descriptor[];
  /** Indexes: the child manifests. Empty for an image. */
  readonly manifests: readonly Descriptor[];
  /** OCI 1.1: the manifest this one refers to (signatures, SBOMs, attestations). */
  readonly subject?: Descriptor;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}
