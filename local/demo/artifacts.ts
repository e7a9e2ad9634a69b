// Pure: what the demo attaches to its image: a cosign signature (simple-signing payload, ECDSA P-256), an SPDX SBOM and a SARIF scan report.
// Signature format: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
import { createHash, sign, type KeyObject } from 'node:crypto';
import { COSIGN_SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from '../../functions/gates/cosign-sig.ts';
import { MediaType } from '../../functions/oci/media-types.ts';
import type { DemoContent, DemoImage } from './image.ts';

export const SPDX_ARTIFACT_TYPE = 'application/spdx+json';
export const SARIF_ARTIFACT_TYPE = 'application/sarif+json';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const content = (mediaType: string, bytes: Buffer): DemoContent => ({ mediaType, digest: sha256(bytes), size: bytes.length, bytes });

/** The signature manifest (for the `sha256-<hex>.sig` tag) and its two blobs: payload and config. */
export interface CosignSignature {
  readonly manifest: DemoContent;
  readonly blobs: readonly DemoContent[];
  readonly payload: Buffer;
}

/**
 * Signs `digest` as `cosign sign --key` does: the simple-signing payload names the image and the
 * digest; the ECDSA signature over it (DER, base64) goes in the layer's annotation.
 */
export function cosignSignature(dockerReference: string, digest: string, privateKey: KeyObject): CosignSignature {
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
  const signature = sign('sha256', payload, privateKey).toString('base64');
  const layer = content(SIMPLE_SIGNING_MEDIA_TYPE, payload);
  const config = content(MediaType.OciConfig, Buffer.from(JSON.stringify({
    architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {},
  })));
  const manifest = content(MediaType.OciManifest, Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature } }],
  })));
  return { manifest, blobs: [config, layer], payload };
}

/** An SPDX 2.3 SBOM of the demo image: one package per platform, with the files of its layer. */
export function spdxSbom(name: string, version: string, image: DemoImage, created: Date): Buffer {
  return Buffer.from(JSON.stringify({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${name}:${version}`,
    documentNamespace: `https://regman.invalid/spdx/${encodeURIComponent(name)}/${image.index.digest}`,
    creationInfo: { created: created.toISOString(), creators: ['Tool: regman-demo'] },
    packages: image.manifests.map((m, i) => ({
      SPDXID: `SPDXRef-Package-${i}`,
      name: 'regman-demo',
      versionInfo: version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: m.digest.slice('sha256:'.length) }],
      comment: `image manifest ${m.digest}`,
    })),
    relationships: image.manifests.map((_, i) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: `SPDXRef-Package-${i}` })),
  }, null, 2));
}

/** One finding of the demo's report: its id, a `security-severity` score, and whether a fix exists. */
export interface DemoFinding {
  readonly id: string;
  readonly score: number;
  readonly fixedVersion?: string;
  readonly text: string;
}

/** The demo's default findings: one high and one medium, within dev → staging's thresholds (critical 0, high ≤ 2). */
export const DEMO_FINDINGS: readonly DemoFinding[] = [
  { id: 'DEMO-2026-0001', score: 7.5, fixedVersion: '1.0.1', text: 'demo finding: a high-severity issue in the hello script (not a real vulnerability)' },
  { id: 'DEMO-2026-0002', score: 5.3, text: 'demo finding: a medium-severity issue without a fix (not a real vulnerability)' },
];

/** A SARIF 2.1.0 log in Trivy's shape (rules carry `security-severity`; help carries `Fixed Version:`). */
export function sarifReport(findings: readonly DemoFinding[] = DEMO_FINDINGS): Buffer {
  return Buffer.from(JSON.stringify({
    version: '2.1.0',
    $schema: 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json',
    runs: [{
      tool: {
        driver: {
          name: 'regman-demo',
          informationUri: 'https://regman.invalid/demo',
          rules: findings.map((f) => ({
            id: f.id,
            shortDescription: { text: f.text },
            help: { text: `Vulnerability ${f.id}\nPackage: regman-demo\nFixed Version: ${f.fixedVersion ?? ''}` },
            properties: { 'security-severity': f.score.toFixed(1), tags: ['vulnerability', 'security'] },
          })),
        },
      },
      results: findings.map((f, i) => ({ ruleId: f.id, ruleIndex: i, level: f.score >= 7 ? 'error' : 'warning', message: { text: f.text } })),
    }],
  }, null, 2));
}
