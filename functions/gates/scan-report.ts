// Finds a digest's scan report among its OCI referrers (referrers API or the sha256-<hex> fallback tag) and reads it.
import { findReferrers } from '../oci/referrers.ts';
import type { Registry } from '../oci/registry.ts';
import type { Descriptor } from '../oci/types.ts';
import { GateError } from './errors.ts';
import { SCAN_REPORT_ARTIFACT_TYPES } from './reports/parse-report.ts';

/** Reports larger than this are refused rather than buffered (a Trivy JSON of a big image is a few MiB). */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export interface AttachedReport {
  /** The referrer manifest's descriptor. */
  readonly referrer: Descriptor;
  /** The report blob's digest. */
  readonly blobDigest: string;
  readonly bytes: Buffer;
}

const CREATED = 'org.opencontainers.image.created';

/**
 * The newest attached scan report (by `org.opencontainers.image.created`, then by listing order: later
 * pushes come later in the fallback index), or undefined when none is attached. The report is the
 * referrer's first layer (blob) of a report media type, else its first layer (`oras attach` puts the
 * file there with the artifact type as the layer type or `application/vnd.oci.image.layer.v1.tar`).
 */
export async function findScanReport(registry: Registry, repository: string, digest: string): Promise<AttachedReport | undefined> {
  const { descriptors } = await findReferrers(registry, repository, digest);
  const reports = descriptors
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => d.artifactType !== undefined && SCAN_REPORT_ARTIFACT_TYPES.includes(d.artifactType));
  if (reports.length === 0) return undefined;
  reports.sort((a, b) => (a.d.annotations?.[CREATED] ?? '').localeCompare(b.d.annotations?.[CREATED] ?? '') || a.i - b.i);
  const referrer = reports[reports.length - 1]!.d;
  const manifest = await registry.manifestGet(repository, referrer.digest);
  const layer = manifest.layers.find((l) => SCAN_REPORT_ARTIFACT_TYPES.includes(l.mediaType)) ?? manifest.layers[0];
  if (layer === undefined) {
    throw new GateError(`The scan report referrer ${referrer.digest} of ${repository}@${digest} has no layer holding the report; attach it again with regman attach.`, {
      code: 'REPORT_MALFORMED',
    });
  }
  if (layer.size > MAX_REPORT_BYTES) {
    throw new GateError(`The scan report ${layer.digest} of ${repository}@${digest} is ${layer.size} bytes, over the ${MAX_REPORT_BYTES}-byte limit.`, {
      code: 'REPORT_MALFORMED',
    });
  }
  const { stream } = await registry.blobGet(repository, layer.digest, { expectedSize: layer.size });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { referrer, blobDigest: layer.digest, bytes: Buffer.concat(chunks) };
}
