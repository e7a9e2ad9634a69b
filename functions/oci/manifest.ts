// Manifest parsing: detect the kind (Docker schema2 / list, OCI manifest / index / artifact), keep the raw bytes, verify the digest.
// Formats: https://github.com/opencontainers/image-spec/blob/main/manifest.md, image-index.md;
// https://distribution.github.io/distribution/spec/manifest-v2-2/
import { OciError } from './errors.ts';
import { digestOf } from './digest.ts';
import { IMAGE_MANIFEST_TYPES, INDEX_MANIFEST_TYPES, MAX_MANIFEST_BYTES, MediaType, SCHEMA1_TYPES } from './media-types.ts';
import type { Descriptor, Manifest } from './types.ts';

/** Config media types of runnable images; an OCI manifest with any other config is an artifact. */
const IMAGE_CONFIG_TYPES: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];

export interface ParseManifestContext {
  /** `Docker-Content-Digest` the registry sent, checked against the bytes. */
  readonly dockerContentDigest?: string;
  /** For messages, e.g. `127.0.0.1:5000/team/app:1.0`. */
  readonly source?: string;
}

/** The error for a manifest over the spec's 4 MiB. */
export function manifestTooLarge(source: string, size?: number): OciError {
  return new OciError(
    `manifest ${source} is ${size !== undefined ? `${size} bytes, ` : ''}larger than the ${MAX_MANIFEST_BYTES}-byte (4 MiB) limit ` +
      'registries must accept; it was not read. Split the index or trim annotations.',
    { code: 'MANIFEST_TOO_LARGE' },
  );
}

function schema1Error(source: string): OciError {
  return new OciError(
    `manifest ${source} is Docker schema1, which is deprecated and unsupported. Re-push it as schema2 or OCI, ` +
      `e.g. skopeo copy --format v2s2 docker://${source} docker://${source}`,
    { code: 'UNSUPPORTED_MANIFEST' },
  );
}

function invalid(source: string, problem: string, cause?: unknown): OciError {
  return new OciError(`manifest ${source} is not valid: ${problem}`, { code: 'MANIFEST_INVALID', ...(cause !== undefined ? { cause } : {}) });
}

function mediaTypeOnly(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}

function descriptor(value: unknown, where: string, source: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null || typeof d.digest !== 'string' || typeof d.size !== 'number' || typeof d.mediaType !== 'string') {
    throw invalid(source, `${where} is not a descriptor with mediaType, digest and size`);
  }
  return d as Descriptor;
}

/**
 * Parses manifest bytes. The body's `mediaType` wins over a generic Content-Type; without either,
 * the shape decides (`manifests` → index, `config` → image). `raw` is kept byte for byte.
 * Throws UNSUPPORTED_MANIFEST for schema1, MANIFEST_TOO_LARGE over 4 MiB, DIGEST_MISMATCH when the
 * bytes do not hash to `expectedDigest` or to the registry's Docker-Content-Digest.
 *
 * @example parseManifest(raw, 'application/vnd.oci.image.index.v1+json', 'sha256:…').manifests
 */
export function parseManifest(raw: Buffer, contentType?: string, expectedDigest?: string, context: ParseManifestContext = {}): Manifest {
  const source = context.source ?? expectedDigest ?? 'manifest';
  if (raw.length > MAX_MANIFEST_BYTES) throw manifestTooLarge(source, raw.length);
  let parsed: unknown;
  let parseError: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    parseError = err;
  }
  const object = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const headerType = mediaTypeOnly(contentType);
  const bodyType = typeof object?.mediaType === 'string' ? object.mediaType : undefined;
  // Schema1 before any digest check: a signed schema1 manifest's Docker-Content-Digest is that of its
  // JWS payload, not of the bytes served, so a digest check would hide the real problem.
  if (object?.schemaVersion === 1 || SCHEMA1_TYPES.includes(bodyType ?? '') || SCHEMA1_TYPES.includes(headerType ?? '')) throw schema1Error(source);
  const digest = digestOf(raw, expectedDigest);
  if (expectedDigest !== undefined && digest !== expectedDigest) {
    throw new OciError(`manifest ${source} does not match its digest: asked for ${expectedDigest}, the bytes hash to ${digest}`, { code: 'DIGEST_MISMATCH' });
  }
  const dcd = context.dockerContentDigest;
  if (dcd !== undefined && dcd !== '' && digestOf(raw, dcd) !== dcd) {
    throw new OciError(`manifest ${source} does not match the Docker-Content-Digest ${dcd} the registry sent (the bytes hash to ${digestOf(raw, dcd)})`, { code: 'DIGEST_MISMATCH' });
  }
  if (parseError !== undefined) throw invalid(source, 'it is not JSON', parseError);
  if (object === undefined) throw invalid(source, 'it is not a JSON object');
  const json = object;
  const known = [...IMAGE_MANIFEST_TYPES, ...INDEX_MANIFEST_TYPES];
  // distribution-spec: a manifest's mediaType, when present, must match the Content-Type it was served
  // with. Generic types (application/json, octet-stream) from lax registries carry no claim to compare.
  if (bodyType !== undefined && headerType !== undefined && known.includes(headerType) && headerType !== bodyType) {
    throw invalid(source, `its mediaType ${bodyType} differs from the Content-Type ${headerType} it was served with (distribution-spec: clients must reject it)`);
  }
  const mediaType =
    bodyType ??
    (headerType !== undefined && known.includes(headerType) ? headerType : undefined) ??
    (Array.isArray(json.manifests) ? MediaType.OciIndex : json.config !== undefined ? MediaType.OciManifest : undefined);
  if (mediaType === undefined) throw invalid(source, 'it has no mediaType, and neither "manifests" nor "config"');
  if (json.schemaVersion !== 2) throw invalid(source, `schemaVersion is ${JSON.stringify(json.schemaVersion)}, expected 2`);
  const annotations = json.annotations as Record<string, string> | undefined;
  const subject = json.subject !== undefined ? descriptor(json.subject, 'subject', source) : undefined;
  const common = {
    raw,
    digest,
    mediaType,
    ...(subject !== undefined ? { subject } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
  };
  if (INDEX_MANIFEST_TYPES.includes(mediaType)) {
    if (!Array.isArray(json.manifests)) throw invalid(source, `a ${mediaType} needs a "manifests" array`);
    const artifactType = typeof json.artifactType === 'string' ? json.artifactType : undefined;
    return {
      ...common,
      kind: 'index',
      layers: [],
      manifests: json.manifests.map((m, i) => descriptor(m, `manifests[${i}]`, source)),
      ...(artifactType !== undefined ? { artifactType } : {}),
    };
  }
  if (IMAGE_MANIFEST_TYPES.includes(mediaType)) {
    const config = descriptor(json.config, 'config', source);
    if (!Array.isArray(json.layers)) throw invalid(source, `a ${mediaType} needs a "layers" array`);
    // An OCI manifest whose config is not an image config is an artifact; image-spec says its
    // artifactType is then the config's mediaType (manifest.md, "artifactType").
    const artifactType =
      typeof json.artifactType === 'string'
        ? json.artifactType
        : mediaType === MediaType.OciManifest && !IMAGE_CONFIG_TYPES.includes(config.mediaType)
          ? config.mediaType
          : undefined;
    return {
      ...common,
      kind: 'image',
      config,
      layers: json.layers.map((l, i) => descriptor(l, `layers[${i}]`, source)),
      manifests: [],
      ...(artifactType !== undefined ? { artifactType } : {}),
    };
  }
  throw new OciError(`manifest ${source} has media type ${mediaType}, which this client does not handle`, { code: 'UNSUPPORTED_MANIFEST' });
}

/** The descriptor that points at a parsed manifest. */
export function manifestDescriptor(m: Manifest): Descriptor {
  return {
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.raw.length,
    ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
    ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
  };
}
