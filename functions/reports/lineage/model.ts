// Image lineage, pure: where an image came from (OCI annotations and labels, base image, BuildKit/SLSA provenance, SBOMs, signatures) and where it went (replication and promotion records).
// Annotations: https://github.com/opencontainers/image-spec/blob/main/annotations.md; BuildKit attestation storage:
// https://github.com/moby/buildkit/blob/master/docs/attestations/attestation-storage.md
import type { StoredAuditRecord } from '../../audit/types.ts';
import type { Descriptor, Manifest } from '../../oci/types.ts';
import { PROMOTE_PREFIX, buildEvidence, isPromotionRunRecord } from '../promotion-records.ts';
import { readStatement, type Provenance, type SbomSummary } from './provenance.ts';

/** The OCI annotation keys lineage reads (the same keys as image config labels). */
export const ORIGIN_KEYS = {
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  created: 'org.opencontainers.image.created',
  version: 'org.opencontainers.image.version',
  baseName: 'org.opencontainers.image.base.name',
  baseDigest: 'org.opencontainers.image.base.digest',
  title: 'org.opencontainers.image.title',
  url: 'org.opencontainers.image.url',
} as const;

/** BuildKit marks attestation manifests in an index with these descriptor annotations. */
export const ATTESTATION_TYPE_KEY = 'vnd.docker.reference.type';
export const ATTESTATION_DIGEST_KEY = 'vnd.docker.reference.digest';
export const PREDICATE_TYPE_KEY = 'in-toto.io/predicate-type';

export type Origin = { -readonly [K in keyof typeof ORIGIN_KEYS]?: string };

export interface AttestationInput {
  /** The attestation manifest's digest. */
  readonly digest: string;
  /** The platform manifest it describes (`vnd.docker.reference.digest`), or the referrer's subject. */
  readonly describes: string;
  /** Where it was found. */
  readonly via: 'buildkit-index' | 'referrer' | 'cosign-tag';
  /** The parsed JSON of each statement layer. */
  readonly statements: readonly unknown[];
}

export interface LineageInput {
  /** As the user gave it. */
  readonly reference: string;
  /** The configured registry name, or the host when none is configured for it. */
  readonly registry: string;
  readonly repository: string;
  readonly manifest: Manifest;
  /** Labels and creation time of the image config (image manifests only). */
  readonly config?: { readonly labels?: Readonly<Record<string, string>>; readonly created?: string };
  /** Tags whose manifest is this digest. */
  readonly tags: readonly string[];
  /** Indexes (by tag) that list this digest as a child. */
  readonly parents: readonly { readonly tag: string; readonly digest: string }[];
  readonly attestations: readonly AttestationInput[];
  /** Referrers of the digest (OCI 1.1 API or the fallback tag) and the cosign tags it has. */
  readonly referrers: readonly Descriptor[];
  readonly cosignTags: readonly string[];
  /** Audit records of this digest (any action). */
  readonly records: readonly StoredAuditRecord[];
}

export interface PlatformChild {
  readonly digest: string;
  readonly platform: string;
  /** The attestation manifest BuildKit stored for it. */
  readonly attestation?: string;
}

export interface ProvenanceFound extends Provenance {
  readonly attestation: string;
  readonly via: AttestationInput['via'];
}

export interface SbomFound {
  /** The manifest holding it (an attestation manifest or a referrer). */
  readonly digest: string;
  readonly via: AttestationInput['via'] | 'referrer';
  readonly format: SbomSummary['format'];
  readonly mediaType?: string;
  readonly packages?: number;
}

export interface SignatureFound {
  readonly via: 'cosign-tag' | 'referrer';
  /** The referrer's digest, or the cosign tag. */
  readonly ref: string;
  readonly artifactType?: string;
}

export interface CopyRecord {
  readonly action: string;
  readonly outcome: string;
  readonly time: string;
  readonly actor: string;
  readonly source?: string;
  readonly target?: string;
  readonly targetRepository?: string;
  readonly correlationId: string;
  /** Who pushed (CloudTrail `PutImage` principal), when the replication record names one. */
  readonly pushedBy?: string;
}

export interface PromotionFound {
  readonly environment: string;
  readonly from?: string;
  readonly outcome: string;
  readonly requester?: string;
  readonly approvers: readonly string[];
  readonly time: string;
  readonly executionId: string;
}

export interface Lineage {
  readonly kind: 'regman.lineage';
  readonly image: { readonly reference: string; readonly registry: string; readonly repository: string; readonly digest: string; readonly mediaType: string; readonly kind: 'image' | 'index' };
  readonly tags: readonly string[];
  /** Annotations first, then config labels: where the source, revision, version and base image are recorded. */
  readonly origin: Origin;
  readonly base?: { readonly name?: string; readonly digest?: string };
  /** Runnable children of an index (attestation manifests left out). */
  readonly platforms: readonly PlatformChild[];
  readonly parents: readonly { readonly tag: string; readonly digest: string }[];
  readonly provenance: readonly ProvenanceFound[];
  readonly sboms: readonly SbomFound[];
  readonly signatures: readonly SignatureFound[];
  /** Other referrers (scan reports, test results, …). */
  readonly otherReferrers: readonly { readonly digest: string; readonly artifactType?: string }[];
  /** Replication and copies of this digest, oldest first. */
  readonly copies: readonly CopyRecord[];
  readonly promotions: readonly PromotionFound[];
}

const platformText = (d: Descriptor): string => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : 'unknown');

export function isAttestationDescriptor(d: Descriptor): boolean {
  return d.annotations?.[ATTESTATION_TYPE_KEY] === 'attestation-manifest';
}

const SIGNATURE_TYPES = [/sigstore\.bundle/, /cosign/, /notary/, /signature/];
const SBOM_TYPES: [RegExp, SbomSummary['format']][] = [[/spdx/, 'spdx'], [/cyclonedx/, 'cyclonedx']];

function originOf(input: LineageInput): Origin {
  const out: Origin = {};
  const sources = [input.manifest.annotations ?? {}, input.config?.labels ?? {}];
  for (const [field, key] of Object.entries(ORIGIN_KEYS) as [keyof Origin, string][]) {
    const value = sources.map((s) => s[key]).find((v) => v !== undefined && v !== '');
    if (value !== undefined) out[field] = value;
  }
  if (out.created === undefined && input.config?.created && !input.config.created.startsWith('0001-')) out.created = input.config.created;
  return out;
}

/**
 * Builds the lineage from what the collector read.
 *
 * @example
 * const lineage = buildLineage({ reference: 'reg/app:v1', registry: 'source', repository: 'app', manifest, tags: ['v1'], parents: [], attestations: [], referrers: [], cosignTags: [], records: [] });
 */
export function buildLineage(input: LineageInput): Lineage {
  const m = input.manifest;
  const attestationOf = new Map(m.manifests.filter(isAttestationDescriptor).map((d) => [d.annotations?.[ATTESTATION_DIGEST_KEY] ?? '', d.digest]));
  const platforms = m.manifests.filter((d) => !isAttestationDescriptor(d)).map((d) => ({ digest: d.digest, platform: platformText(d), ...(attestationOf.has(d.digest) ? { attestation: attestationOf.get(d.digest)! } : {}) }));
  const provenance: ProvenanceFound[] = [];
  const sboms: SbomFound[] = [];
  for (const a of input.attestations) {
    for (const raw of a.statements) {
      const s = readStatement(raw);
      if (s?.kind === 'provenance') provenance.push({ ...s.provenance, attestation: a.digest, via: a.via });
      else if (s?.kind === 'sbom') sboms.push({ digest: a.digest, via: a.via, format: s.sbom.format, ...(s.sbom.packages !== undefined ? { packages: s.sbom.packages } : {}) });
    }
  }
  const signatures: SignatureFound[] = input.cosignTags.filter((t) => t.endsWith('.sig')).map((t) => ({ via: 'cosign-tag' as const, ref: t }));
  const otherReferrers: { digest: string; artifactType?: string }[] = [];
  const read = new Set(input.attestations.map((a) => a.digest));
  for (const r of input.referrers) {
    const type = r.artifactType ?? r.mediaType;
    if (SIGNATURE_TYPES.some((re) => re.test(type))) signatures.push({ via: 'referrer', ref: r.digest, artifactType: type });
    else if (SBOM_TYPES.some(([re]) => re.test(type))) {
      if (!sboms.some((s) => s.digest === r.digest)) sboms.push({ digest: r.digest, via: 'referrer', format: SBOM_TYPES.find(([re]) => re.test(type))![1], mediaType: type });
    } else if (!read.has(r.digest)) otherReferrers.push({ digest: r.digest, ...(r.artifactType ? { artifactType: r.artifactType } : {}) });
  }
  for (const t of input.cosignTags.filter((x) => x.endsWith('.sbom'))) if (!sboms.some((s) => s.digest === t)) sboms.push({ digest: t, via: 'cosign-tag', format: 'other' });

  const records = [...input.records].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const copies: CopyRecord[] = records
    .filter((r) => !r.action.startsWith(PROMOTE_PREFIX) && (r.target !== undefined || r.source !== undefined))
    .map((r) => {
      const targetRepository = typeof r.details?.targetRepository === 'string' ? r.details.targetRepository : undefined;
      const pushed = r.details?.pushedBy;
      const pushedBy = typeof pushed === 'object' && pushed !== null && !Array.isArray(pushed) && typeof (pushed as Record<string, unknown>).principal === 'string' ? String((pushed as Record<string, unknown>).principal) : undefined;
      return {
        action: r.action,
        outcome: r.outcome,
        time: r.time,
        actor: r.actor,
        correlationId: r.correlationId,
        ...(r.source !== undefined ? { source: r.source } : {}),
        ...(r.target !== undefined ? { target: r.target } : {}),
        ...(targetRepository !== undefined ? { targetRepository } : {}),
        ...(pushedBy !== undefined ? { pushedBy } : {}),
      };
    });
  const runs = new Map<string, StoredAuditRecord[]>();
  for (const r of records.filter(isPromotionRunRecord)) runs.set(r.correlationId, [...(runs.get(r.correlationId) ?? []), r]);
  const promotions: PromotionFound[] = [...runs.values()].flatMap((run) => {
    const e = buildEvidence(run);
    if (!e) return [];
    return [{
      environment: e.environment,
      ...(e.from !== undefined ? { from: e.from } : {}),
      outcome: e.outcome,
      ...(e.requester !== undefined ? { requester: e.requester } : {}),
      approvers: e.approvers.filter((a) => a.decision === 'approved').map((a) => a.approver),
      time: e.finishedAt ?? e.requestedAt ?? run[0]!.time,
      executionId: e.executionId,
    }];
  });
  const origin = originOf(input);
  return {
    kind: 'regman.lineage',
    image: { reference: input.reference, registry: input.registry, repository: input.repository, digest: m.digest, mediaType: m.mediaType, kind: m.kind },
    tags: [...input.tags].sort(),
    origin,
    ...(origin.baseName !== undefined || origin.baseDigest !== undefined ? { base: { ...(origin.baseName !== undefined ? { name: origin.baseName } : {}), ...(origin.baseDigest !== undefined ? { digest: origin.baseDigest } : {}) } } : {}),
    platforms,
    parents: input.parents,
    provenance,
    sboms,
    signatures,
    otherReferrers,
    copies,
    promotions,
  };
}
