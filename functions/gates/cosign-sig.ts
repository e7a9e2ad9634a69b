// Verifies cosign signatures stored under the `sha256-<hex>.sig` tag: simple-signing payloads signed with ECDSA P-256.
// Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md (payload format, layer annotation).
import { verify, type KeyObject } from 'node:crypto';
import { isNotFoundError } from '../oci/errors.ts';
import { cosignTags } from '../oci/referrers.ts';
import type { Registry } from '../oci/registry.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** What one signature layer turned out to be. */
export type SignatureCheck =
  | { readonly outcome: 'verified'; readonly keyId: string; readonly layer: string }
  | { readonly outcome: 'other-digest'; readonly signedDigest: string; readonly keyId?: string; readonly layer: string }
  | { readonly outcome: 'no-key-verifies'; readonly layer: string }
  | { readonly outcome: 'malformed'; readonly problem: string; readonly layer: string };

/**
 * Checks each simple-signing layer of the digest's `.sig` manifest with each key: the ECDSA signature
 * (base64 DER in the layer annotation) must verify over the payload bytes with one of the keys, and
 * the payload's `critical.image.docker-manifest-digest` must equal `digest`. Returns one check per
 * layer (an empty list when there is no `.sig` tag).
 */
export async function checkCosignSignatures(
  registry: Registry,
  repository: string,
  digest: string,
  keys: readonly { readonly id: string; readonly key: KeyObject }[],
): Promise<SignatureCheck[]> {
  const tag = cosignTags(digest).find((t) => t.endsWith('.sig'))!;
  let manifest;
  try {
    manifest = await registry.manifestGet(repository, tag);
  } catch (err) {
    if (isNotFoundError(err)) return [];
    throw err;
  }
  const checks: SignatureCheck[] = [];
  for (const layer of manifest.layers) {
    if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    const sigText = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (sigText === undefined || sigText === '') {
      checks.push({ outcome: 'malformed', problem: `layer ${layer.digest} has no ${COSIGN_SIGNATURE_ANNOTATION} annotation`, layer: layer.digest });
      continue;
    }
    if (layer.size > MAX_PAYLOAD_BYTES) {
      checks.push({ outcome: 'malformed', problem: `payload ${layer.digest} is ${layer.size} bytes`, layer: layer.digest });
      continue;
    }
    const { stream } = await registry.blobGet(repository, layer.digest, { expectedSize: layer.size });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    checks.push(checkPayload(Buffer.concat(chunks), Buffer.from(sigText, 'base64'), digest, keys, layer.digest));
  }
  return checks;
}

/** Pure: one payload and signature against the keys and the expected digest. */
export function checkPayload(
  payload: Buffer,
  signature: Buffer,
  digest: string,
  keys: readonly { readonly id: string; readonly key: KeyObject }[],
  layer: string,
): SignatureCheck {
  // cosign signs sha256(payload) with ECDSA, DER-encoded (node's default dsaEncoding).
  const signer = keys.find((k) => {
    try {
      return verify('sha256', payload, k.key, signature);
    } catch {
      return false;
    }
  });
  let signedDigest: unknown;
  try {
    signedDigest = (JSON.parse(payload.toString('utf8')) as { critical?: { image?: { 'docker-manifest-digest'?: unknown } } }).critical?.image?.['docker-manifest-digest'];
  } catch {
    if (signer === undefined) return { outcome: 'no-key-verifies', layer };
    return { outcome: 'malformed', problem: `payload ${layer} is not JSON`, layer };
  }
  if (typeof signedDigest !== 'string') {
    return signer === undefined ? { outcome: 'no-key-verifies', layer } : { outcome: 'malformed', problem: `payload ${layer} has no critical.image.docker-manifest-digest`, layer };
  }
  if (signedDigest !== digest) return { outcome: 'other-digest', signedDigest, layer, ...(signer ? { keyId: signer.id } : {}) };
  if (signer === undefined) return { outcome: 'no-key-verifies', layer };
  return { outcome: 'verified', keyId: signer.id, layer };
}
