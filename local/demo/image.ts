// Pure: the demo's small multi-arch image (linux/amd64 + linux/arm64, one real tar+gzip layer each) as an OCI index with its blobs.
import { createHash } from 'node:crypto';
import { MediaType } from '../../functions/oci/media-types.ts';
import { tarGzip } from './tar-gzip.ts';

export const DEMO_PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
] as const;

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A blob or manifest, by digest, with the bytes to push. */
export interface DemoContent {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface DemoImage {
  /** The index (what the tag names). */
  readonly index: DemoContent;
  /** One image manifest per platform, in DEMO_PLATFORMS order. */
  readonly manifests: readonly DemoContent[];
  /** Every config and layer blob. */
  readonly blobs: readonly DemoContent[];
}

function content(mediaType: string, bytes: Buffer): DemoContent {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/**
 * Builds the image. `version` goes into a file of each layer and the labels, so two versions have
 * different digests; the same version always builds the same bytes.
 */
export function buildDemoImage(version: string, created = new Date('2026-01-01T00:00:00Z')): DemoImage {
  const blobs: DemoContent[] = [];
  const manifests: DemoContent[] = [];
  const labels = { 'org.opencontainers.image.title': 'regman demo', 'org.opencontainers.image.version': version, 'org.opencontainers.image.source': 'regman demo (built offline)' };
  for (const p of DEMO_PLATFORMS) {
    const platform = `${p.os}/${p.architecture}${'variant' in p ? `/${p.variant}` : ''}`;
    const layer = tarGzip([
      { name: 'etc/demo-release', data: Buffer.from(`NAME="regman demo"\nVERSION="${version}"\nPLATFORM="${platform}"\n`) },
      { name: 'usr/local/bin/hello', data: Buffer.from(`#!/bin/sh\necho "hello from regman demo ${version} on ${platform}"\n`), mode: 0o755 },
    ]);
    const layerBlob = content(MediaType.OciLayer, layer.gzip);
    const config = content(MediaType.OciConfig, json({
      created: created.toISOString(),
      architecture: p.architecture,
      os: p.os,
      ...('variant' in p ? { variant: p.variant } : {}),
      config: { Entrypoint: ['/usr/local/bin/hello'], Labels: labels },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: created.toISOString(), created_by: 'regman demo' }],
    }));
    blobs.push(config, layerBlob);
    manifests.push(content(MediaType.OciManifest, json({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: [{ mediaType: layerBlob.mediaType, digest: layerBlob.digest, size: layerBlob.size }],
      annotations: { 'org.opencontainers.image.version': version },
    })));
  }
  const index = content(MediaType.OciIndex, json({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: manifests.map((m, i) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform: DEMO_PLATFORMS[i] })),
    annotations: { 'org.opencontainers.image.version': version, 'org.opencontainers.image.created': created.toISOString() },
  }));
  return { index, manifests, blobs };
}
