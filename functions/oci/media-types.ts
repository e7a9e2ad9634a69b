// The manifest media types the client understands, and the Accept header that asks for all of them.

export const MediaType = {
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
export const INDEX_MANIFEST_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
export const SCHEMA1_TYPES: readonly string[] = [MediaType.DockerSchema1, MediaType.DockerSchema1Signed];

/**
 * Every manifest type we accept, listed explicitly: distribution 2.8 answers 404 to a GET of an OCI
 * manifest whose Accept header lacks the OCI type, even when `*\/*` is present.
 */
export const MANIFEST_ACCEPT = [...INDEX_MANIFEST_TYPES, ...IMAGE_MANIFEST_TYPES, ...SCHEMA1_TYPES].join(', ');

/** The spec's cap on manifests a registry must accept; bigger ones are refused before reading on. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
