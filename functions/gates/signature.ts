// The signature gate: the digest must carry a valid cosign signature (.sig tag or sigstore bundle referrer) by a configured key.
import type { SignatureGate } from '../config/types.ts';
import { checkCosignSignatures, type SignatureCheck } from './cosign-sig.ts';
import { checkSigstoreBundles } from './sigstore-bundle.ts';
import { ecdsaP256Key } from './signature-keys.ts';
import type { GateResult, RunSignatureGate } from './types.ts';

export type SignatureGateConfig = Partial<SignatureGate>;

/**
 * Passes when one signature verifies with a configured key over exactly this digest. Otherwise fails
 * and says which problem it found: no signature, a signature over another digest, or signatures no
 * configured key verifies (signed by another key, or the payload was changed after signing: ECDSA
 * cannot tell these apart), or a malformed signature. Keys come resolved in `deps.publicKeys`.
 */
export const runSignatureGate: RunSignatureGate<SignatureGateConfig> = async (input, _config, deps) => {
  const image = `${input.repository}@${input.digest}`;
  const keys = deps.publicKeys.map((k) => ({ id: k.id, key: ecdsaP256Key(k) }));
  const [sig, bundles] = await Promise.all([
    checkCosignSignatures(deps.registry, input.repository, input.digest, keys),
    checkSigstoreBundles(deps.registry, input.repository, input.digest, keys),
  ]);
  const checks: (SignatureCheck & { kind: 'cosign' | 'bundle' })[] = [
    ...sig.map((c) => ({ ...c, kind: 'cosign' as const })),
    ...bundles.map((c) => ({ ...c, kind: 'bundle' as const })),
  ];
  const keyIds = keys.map((k) => k.id);
  const details = { digest: input.digest, keys: keyIds, checks };
  const ok = checks.find((c) => c.outcome === 'verified');
  if (ok !== undefined && ok.outcome === 'verified') {
    const kind = ok.kind === 'cosign' ? 'cosign signature (.sig tag)' : 'sigstore bundle referrer';
    return { gate: 'signature', passed: true, summary: `signed by ${ok.keyId} (${kind})`, details: { ...details, keyId: ok.keyId } };
  }
  return fail(image, checks, keyIds, details);
};

function fail(image: string, checks: readonly SignatureCheck[], keyIds: readonly string[], details: Record<string, unknown>): GateResult {
  const problems: string[] = [];
  for (const c of checks) {
    if (c.outcome === 'other-digest') problems.push(`a signature over another digest (${c.signedDigest})${c.keyId ? ` by ${c.keyId}` : ''}`);
    else if (c.outcome === 'no-key-verifies') problems.push(`a signature in ${c.layer} that no configured key (${keyIds.join(', ')}) verifies: signed with another key, or its payload was changed after signing`);
    else if (c.outcome === 'malformed') problems.push(`a malformed signature: ${c.problem}`);
  }
  const reason = problems.length === 0
    ? `${image} has no cosign signature (no ${image.split('@')[1]!.replace(':', '-')}.sig tag and no sigstore bundle referrer): sign it in CI (cosign sign --key …) and promote again`
    : `${image} has no valid signature by a configured key: ${problems.join('; ')}`;
  return { gate: 'signature', passed: false, summary: reason, reason, details };
}
