// Verifies sigstore bundles attached as OCI 1.1 referrers with a configured public key, offline, through @sigstore/verify.
// Bundle format: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto. Offline with a key means
// no transparency log or timestamp is required (thresholds 0): the key is the trust root, as `cosign verify --key --insecure-ignore-tlog`.
import { createHash, type KeyObject } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import { findReferrers } from '../oci/referrers.ts';
import type { Registry } from '../oci/registry.ts';
import type { SignatureCheck } from './cosign-sig.ts';

/** Sigstore bundle media types start with this (`…bundle.v0.3+json`, older `…bundle+json;version=0.2`). */
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';
const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

function trustFor(key: KeyObject): TrustMaterial {
  return { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [], publicKey: () => ({ publicKey: key, validFor: () => true }) };
}

/**
 * Checks the digest's sigstore bundle referrers. A DSSE bundle must carry an in-toto statement with a
 * subject whose sha256 is the digest; a message-signature bundle must sign the image manifest itself
 * (its bytes are the artifact). Bundles with a certificate (keyless) are not verifiable offline with
 * a key: they are reported as such.
 */
export async function checkSigstoreBundles(
  registry: Registry,
  repository: string,
  digest: string,
  keys: readonly { readonly id: string; readonly key: KeyObject }[],
): Promise<SignatureCheck[]> {
  const { descriptors } = await findReferrers(registry, repository, digest);
  const bundles = descriptors.filter((d) => d.artifactType?.startsWith(SIGSTORE_BUNDLE_PREFIX) === true);
  if (bundles.length === 0) return [];
  const subject = await registry.manifestGet(repository, digest);
  const checks: SignatureCheck[] = [];
  for (const ref of bundles) {
    const manifest = await registry.manifestGet(repository, ref.digest);
    const layer = manifest.layers.find((l) => l.mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX)) ?? manifest.layers[0];
    if (layer === undefined || layer.size > MAX_BUNDLE_BYTES) {
      checks.push({ outcome: 'malformed', problem: `bundle referrer ${ref.digest} has no bundle layer of a readable size`, layer: ref.digest });
      continue;
    }
    const { stream } = await registry.blobGet(repository, layer.digest, { expectedSize: layer.size });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    checks.push(checkBundle(Buffer.concat(chunks), subject.raw, digest, keys, layer.digest));
  }
  return checks;
}

/** Pure: one bundle's bytes against the keys; `manifestRaw` is the subject's manifest (sha256 = digest). */
export function checkBundle(
  bytes: Buffer,
  manifestRaw: Buffer,
  digest: string,
  keys: readonly { readonly id: string; readonly key: KeyObject }[],
  layer: string,
): SignatureCheck {
  let bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    return { outcome: 'malformed', problem: `sigstore bundle ${layer} is not a valid bundle (${(err as Error).message})`, layer };
  }
  if (bundle.verificationMaterial.content.$case !== 'publicKey') {
    return { outcome: 'malformed', problem: `sigstore bundle ${layer} is keyless (certificate): not verifiable offline with a configured key`, layer };
  }
  const isDsse = bundle.content.$case === 'dsseEnvelope';
  let signer: string | undefined;
  for (const k of keys) {
    try {
      const entity = toSignedEntity(bundle, isDsse ? undefined : manifestRaw);
      new Verifier(trustFor(k.key), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(entity);
      signer = k.id;
      break;
    } catch {
      // next key
    }
  }
  const signed = signedDigests(bundle, manifestRaw);
  if (signed.length > 0 && !signed.includes(digest)) {
    return { outcome: 'other-digest', signedDigest: signed.join(', '), layer, ...(signer ? { keyId: signer } : {}) };
  }
  if (signer === undefined) return { outcome: 'no-key-verifies', layer };
  if (signed.length === 0) return { outcome: 'malformed', problem: `sigstore bundle ${layer} names no subject digest`, layer };
  return { outcome: 'verified', keyId: signer, layer };
}

/** The digests a bundle says it signs: the in-toto subjects (DSSE) or the message digest. */
function signedDigests(bundle: ReturnType<typeof bundleFromJSON>, manifestRaw: Buffer): string[] {
  if (bundle.content.$case === 'dsseEnvelope') {
    try {
      const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as { subject?: { digest?: { sha256?: string } }[] };
      return (statement.subject ?? []).map((s) => s.digest?.sha256).filter((h): h is string => typeof h === 'string').map((h) => `sha256:${h}`);
    } catch {
      return [];
    }
  }
  const md = bundle.content.messageSignature.messageDigest;
  if (md === undefined) return [`sha256:${createHash('sha256').update(manifestRaw).digest('hex')}`];
  return [`sha256:${Buffer.from(md.digest).toString('hex')}`];
}
