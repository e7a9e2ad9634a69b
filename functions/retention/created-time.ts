// An image's own creation time, for registries that record no push time: the manifest's annotation, else its config blob's `created` or label.
// Annotation: https://github.com/opencontainers/image-spec/blob/main/annotations.md; config `created`:
// https://github.com/opencontainers/image-spec/blob/main/config.md#properties
import { isNotFoundError } from '../oci/errors.ts';
import type { Registry } from '../oci/registry.ts';
import type { TimeSource } from './types.ts';

/** The OCI annotation (and label) for when an image was built. */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** Config blobs larger than this are not read for a date (an image config is a few KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Config media types that carry `created` (image configs, not artifacts' empty or custom configs). */
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** Reproducible builds write the epoch (or 1980-01-01, the zip epoch) as `created`: not a time. */
const EARLIEST_TRUSTED_MS = Date.parse('1980-01-02T00:00:00Z');

export interface CreatedTime {
  readonly at: string;
  readonly source: Extract<TimeSource, 'annotation' | 'config-created' | 'config-label'>;
}

/** The ISO form of `value` when it is a trustworthy build time at `now`; `placeholder` when it is a date that cannot be one. */
export function trustedTime(value: unknown, now: Date): { at?: string; placeholder?: boolean } {
  if (typeof value !== 'string' || value === '') return {};
  const t = Date.parse(value);
  if (Number.isNaN(t)) return {};
  // A day of clock skew is tolerated; a date further ahead, or before 1980, is a placeholder.
  if (t < EARLIEST_TRUSTED_MS || t > now.getTime() + 86_400_000) return { placeholder: true };
  return { at: new Date(t).toISOString() };
}

/**
 * Reads the manifest (and, without an annotation, its config blob) for a creation time, first trusted
 * of: the manifest's `org.opencontainers.image.created` annotation, the config's `created`, the
 * config's `org.opencontainers.image.created` label. A manifest gone meanwhile has none.
 */
export async function imageCreatedTime(registry: Pick<Registry, 'manifestGet' | 'blobGet'>, repository: string, digest: string, now: Date): Promise<{ time?: CreatedTime; placeholder: boolean }> {
  let placeholder = false;
  const pick = (value: unknown, source: CreatedTime['source']): CreatedTime | undefined => {
    const t = trustedTime(value, now);
    if (t.placeholder) placeholder = true;
    return t.at ? { at: t.at, source } : undefined;
  };
  try {
    const m = await registry.manifestGet(repository, digest);
    const annotated = pick(m.annotations?.[CREATED_ANNOTATION], 'annotation');
    if (annotated) return { time: annotated, placeholder };
    const config = m.kind === 'image' ? m.config : undefined;
    if (!config || !IMAGE_CONFIG_TYPES.has(config.mediaType) || config.size > MAX_CONFIG_BYTES) return { placeholder };
    const reader = await registry.blobGet(repository, config.digest, { expectedSize: config.size });
    const chunks: Buffer[] = [];
    for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
    let json: { created?: unknown; config?: { Labels?: Record<string, unknown> | null } };
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof json;
    } catch {
      return { placeholder };
    }
    const time = pick(json.created, 'config-created') ?? pick(json.config?.Labels?.[CREATED_ANNOTATION], 'config-label');
    return time ? { time, placeholder } : { placeholder };
  } catch (err) {
    if (isNotFoundError(err)) return { placeholder };
    throw err;
  }
}
