// Sync: one registry of the target environment gets the digest (referrers included) under the original and the environment tag.
import { copyImage } from '../oci/copy.ts';
import { PromotionError } from './errors.ts';
import { adapterOf, auditStep, imageName, pathIn, validated, type PromotionDeps, type PromotionState, type SyncItemResult } from './deps.ts';

/**
 * Copies `run.digest` from the source registry by digest (a tag moved since Validate changes nothing),
 * through the copy engine: blobs and referrers already there are skipped, so an image that is in the
 * target already uploads nothing.
 */
export async function syncRegistry(item: { registry: string; state: PromotionState }, deps: PromotionDeps): Promise<SyncItemResult> {
  const { input } = item.state;
  const run = validated(item.state);
  const source = adapterOf(deps, run.sourceRegistry);
  const target = adapterOf(deps, item.registry);
  const repository = pathIn(target, input.repository);
  try {
    const result = await copyImage(
      { registry: source.oci, repository: pathIn(source, input.repository), reference: run.digest },
      { registry: target.oci, repository, tag: input.tag },
      { referrers: true, ...(deps.copyOptions ?? {}) },
    );
    if ((await target.oci.manifestHead(repository, run.envTag))?.digest !== run.digest) await target.tagImage(repository, run.digest, run.envTag);
    const out: SyncItemResult = {
      registry: item.registry,
      repository,
      tags: [input.tag, run.envTag],
      blobsUploaded: result.blobs.uploaded,
      bytesUploaded: result.bytesUploaded,
      noop: result.noop,
    };
    await auditStep(deps, input, 'sync', 'success', {
      digest: run.digest,
      registry: item.registry,
      source: run.sourceRegistry,
      target: item.registry,
      bytes: out.bytesUploaded,
      tags: out.tags,
      details: { blobsUploaded: out.blobsUploaded, bytesUploaded: out.bytesUploaded, referrers: result.referrers.length },
    });
    return out;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await auditStep(deps, input, 'sync', 'failure', { digest: run.digest, registry: item.registry, source: run.sourceRegistry, target: item.registry, tags: [input.tag, run.envTag], errorMessage: message });
    const retryable = (err as { retryable?: boolean }).retryable === true;
    throw new PromotionError(retryable ? 'TRANSIENT' : 'SYNC_FAILED', `sync of ${imageName(input, run.digest)} to ${item.registry} failed: ${message}`, { retryable, cause: err });
  }
}
