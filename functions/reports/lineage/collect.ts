// Reads an image's lineage from its registry (manifest, config labels, tags, parent indexes, BuildKit attestation manifests, referrers, cosign tags) and the audit log.
import type { Readable } from 'node:stream';
import type { AuditLog, StoredAuditRecord } from '../../audit/index.ts';
import { isNotFoundError } from '../../oci/errors.ts';
import { INDEX_MANIFEST_TYPES } from '../../oci/media-types.ts';
import { findReferrers } from '../../oci/referrers.ts';
import type { Registry } from '../../oci/registry.ts';
import type { Descriptor, Manifest } from '../../oci/types.ts';
import { mapLimit } from '../../registries/map-limit.ts';
import { ATTESTATION_DIGEST_KEY, PREDICATE_TYPE_KEY, buildLineage, isAttestationDescriptor, type AttestationInput, type Lineage } from './model.ts';

/** Statements and configs are small; a bigger blob is not read (an SBOM of a huge image can be tens of MiB). */
export const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
/** Tags whose manifest is checked (one HEAD each); repositories with more report the first ones. */
export const MAX_TAGS_CHECKED = 1000;

export interface CollectLineageOptions {
  readonly registry: Registry;
  /** The configured registry name (how the audit log names it), or the host. */
  readonly registryName: string;
  readonly repository: string;
  /** A tag or a digest. */
  readonly reference: string;
  /** As the user wrote it. */
  readonly display: string;
  readonly log?: Pick<AuditLog, 'iterate'>;
  /**
   * Repositories the audit log may name for this image: replication records carry the source
   * repository, so an image on a target under a `repositoryPrefix` is found under the unprefixed name.
   * @default [repository]
   */
  readonly auditRepositories?: readonly string[];
}

async function readJsonBlob(registry: Registry, repository: string, d: Descriptor): Promise<unknown> {
  if (d.size > MAX_STATEMENT_BYTES) return undefined;
  const reader = await registry.blobGet(repository, d.digest, { expectedSize: d.size });
  const chunks: Buffer[] = [];
  for await (const chunk of reader.stream as Readable) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The in-toto statements of an attestation manifest: its layers with a predicate type (BuildKit) or an in-toto media type. */
async function statementsOf(registry: Registry, repository: string, manifest: Manifest): Promise<unknown[]> {
  const layers = manifest.layers.filter((l) => l.annotations?.[PREDICATE_TYPE_KEY] !== undefined || l.mediaType.includes('in-toto'));
  const out: unknown[] = [];
  for (const l of layers) {
    const json = await readJsonBlob(registry, repository, l);
    if (json === undefined) continue;
    // A DSSE envelope (cosign `.att`, sigstore bundles) carries the statement base64-encoded.
    const payload = typeof (json as { payload?: unknown }).payload === 'string' ? (json as { payload: string }).payload : undefined;
    if (payload !== undefined) {
      try {
        out.push(JSON.parse(Buffer.from(payload, 'base64').toString('utf8')));
      } catch {
        // not a statement
      }
    } else out.push(json);
  }
  return out;
}

async function attestationFrom(registry: Registry, repository: string, digest: string, describes: string, via: AttestationInput['via']): Promise<AttestationInput | undefined> {
  try {
    const manifest = await registry.manifestGet(repository, digest);
    return { digest, describes, via, statements: await statementsOf(registry, repository, manifest) };
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/**
 * Everything lineage shows, read once: one manifest GET, the config blob, one HEAD per tag (an index
 * tag also a GET, to see whether it lists this digest), the attestation manifests and their statement
 * blobs, the referrers, and the audit records of the repository (byRepositoryTime index) that name the digest.
 *
 * @example
 * const lineage = await collectLineage({ registry: adapter.oci, registryName: 'source', repository: 'app', reference: 'v1', display: '127.0.0.1:5000/app:v1', log });
 */
export async function collectLineage(o: CollectLineageOptions): Promise<Lineage> {
  const { registry, repository } = o;
  const manifest = await registry.manifestGet(repository, o.reference);
  const digest = manifest.digest;

  let config: { labels?: Record<string, string>; created?: string } | undefined;
  if (manifest.kind === 'image' && manifest.config && /config/.test(manifest.config.mediaType)) {
    const json = (await readJsonBlob(registry, repository, manifest.config)) as { created?: unknown; config?: { Labels?: unknown } } | undefined;
    const labels = json?.config?.Labels;
    config = {
      ...(typeof labels === 'object' && labels !== null ? { labels: labels as Record<string, string> } : {}),
      ...(typeof json?.created === 'string' ? { created: json.created } : {}),
    };
  }

  const allTags = await registry.tagList(repository);
  const plain = allTags.filter((t) => !/^sha256-[0-9a-f]{64}/.test(t)).slice(0, MAX_TAGS_CHECKED);
  const tags: string[] = [];
  const parents: { tag: string; digest: string }[] = [];
  const parentManifests: Manifest[] = [];
  await mapLimit(plain, 8, async (tag) => {
    const head = await registry.manifestHead(repository, tag);
    if (!head) return;
    if (head.digest === digest) tags.push(tag);
    else if (INDEX_MANIFEST_TYPES.includes(head.mediaType)) {
      const index = await registry.manifestGet(repository, head.digest);
      if (index.manifests.some((d) => d.digest === digest)) {
        parents.push({ tag, digest: index.digest });
        parentManifests.push(index);
      }
    }
  });

  // BuildKit's attestation manifests: in this index (one per platform), or in a parent index for this platform image.
  const attestations: AttestationInput[] = [];
  const buildkit = [
    ...manifest.manifests.filter(isAttestationDescriptor).map((d) => ({ d, describes: d.annotations?.[ATTESTATION_DIGEST_KEY] ?? digest })),
    ...parentManifests.flatMap((p) => p.manifests.filter((d) => isAttestationDescriptor(d) && d.annotations?.[ATTESTATION_DIGEST_KEY] === digest).map((d) => ({ d, describes: digest }))),
  ];
  const seen = new Set<string>();
  for (const { d, describes } of buildkit) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const a = await attestationFrom(registry, repository, d.digest, describes, 'buildkit-index');
    if (a) attestations.push(a);
  }

  const found = await findReferrers(registry, repository, digest, { tags: allTags });
  for (const r of found.descriptors) {
    if (seen.has(r.digest) || !/in-toto|attestation|provenance|spdx|cyclonedx/.test(`${r.artifactType ?? ''} ${r.mediaType}`)) continue;
    seen.add(r.digest);
    const a = await attestationFrom(registry, repository, r.digest, digest, 'referrer');
    if (a) attestations.push(a);
  }
  const cosignTags = found.tags.filter((t) => /\.(sig|att|sbom)$/.test(t));
  for (const t of cosignTags.filter((x) => x.endsWith('.att'))) {
    const a = await attestationFrom(registry, repository, t, digest, 'cosign-tag');
    if (a) attestations.push(a);
  }

  const records: StoredAuditRecord[] = [];
  if (o.log) {
    for (const repo of new Set(o.auditRepositories ?? [repository])) {
      for await (const r of o.log.iterate({ repository: repo, order: 'oldest-first' })) {
        if (r.digest === digest || r.details?.targetDigest === digest) records.push(r);
      }
    }
  }
  return buildLineage({
    reference: o.display,
    registry: o.registryName,
    repository,
    manifest,
    ...(config ? { config } : {}),
    tags,
    parents: parents.sort((a, b) => a.tag.localeCompare(b.tag)),
    attestations,
    referrers: found.descriptors,
    cosignTags,
    records,
  });
}
