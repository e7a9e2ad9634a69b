// The PublishManifests step of a large image: per target, verify every planned blob, then manifests by digest, referrer tags, the tag last.
import type { Manifest } from '../../oci/types.ts';
import { deferralOf } from '../deferral.ts';
import { LargeImageError, toLargeImageError } from './errors.ts';
import { adapterOf, type LargeImageStepDeps } from './plan.ts';
import type { LargeImageState, LargeImageTarget, PlannedTarget, PublishedTarget } from './types.ts';

/** The plan or a fatal STATE_INVALID: PublishManifests runs only after Plan and the Map. */
function planOf(state: LargeImageState): NonNullable<LargeImageState['plan']> {
  if (!state.plan || state.plan.targets.length !== state.targets.length) {
    throw new LargeImageError('STATE_INVALID', 'PublishManifests needs the plan of every target ($.plan)', { retryable: false });
  }
  return state.plan;
}

async function publishTarget(
  state: LargeImageState,
  getSource: (digest: string) => Promise<Manifest>,
  index: number,
  target: LargeImageTarget,
  planned: PlannedTarget,
  deps: LargeImageStepDeps,
): Promise<PublishedTarget> {
  const dst = adapterOf(deps, target.registry).oci;
  const repo = target.repository;
  const where = `${target.registry}/${repo}`;
  // 1. Every blob of this target must be there: nothing is pushed, let alone tagged, otherwise.
  const blobs = (state.plan?.blobs ?? []).filter((b) => b.targets.includes(index));
  const sizes = await Promise.all(blobs.map((b) => dst.blobHead(repo, b.digest)));
  const missing = blobs.filter((b, i) => sizes[i] === undefined);
  if (missing.length > 0) {
    throw new LargeImageError(
      'BLOBS_MISSING',
      `${where}: ${missing.length} of ${blobs.length} blobs are missing (${missing.slice(0, 3).map((b) => b.digest).join(', ')}${missing.length > 3 ? ', …' : ''}); nothing was pushed and ${state.tag} was not tagged`,
      { retryable: false },
    );
  }
  // 2. Manifests by digest, in plan order; 3. tags (referrer tags, then the image tag last).
  let pushed = 0;
  let superseded: PublishedTarget['superseded'];
  for (const step of planned.manifests) {
    const head = await dst.manifestHead(repo, step.tag ?? step.digest);
    if (head?.digest === step.digest) continue;
    if (step.tag === state.tag && (await sourceMoved())) continue;
    if (step.tag !== undefined && (await dst.manifestHead(repo, step.digest))?.digest !== step.digest) {
      throw new LargeImageError('MANIFEST_UNKNOWN', `${where}@${step.digest} is missing before tagging it ${step.tag}`, { retryable: true });
    }
    const m = await getSource(step.digest);
    const digest = await dst.manifestPut(repo, step.tag ?? step.digest, { raw: m.raw, mediaType: m.mediaType });
    if (digest !== step.digest) {
      throw new LargeImageError('DIGEST_MISMATCH', `${where}: the registry stored ${digest} for ${step.tag ?? step.digest}, expected ${step.digest}`, { retryable: false });
    }
    pushed++;
  }
  return { target: target.registry, digest: planned.root, manifestsPushed: pushed, tagged: superseded === undefined, ...(superseded ? { superseded } : {}) };

  /** Just before the image tag: a newer push moved the source tag, so this one must not move it back. */
  async function sourceMoved(): Promise<boolean> {
    const now = await adapterOf(deps, state.sourceRegistry).oci.manifestHead(state.repository, state.tag);
    if (now?.digest === state.digest) return false;
    superseded = { eventDigest: state.digest, ...(now ? { currentDigest: now.digest } : {}), by: 'source' };
    return true;
  }
}

/**
 * Publishes the manifests of every target once the Map has copied the blobs. Targets are published in
 * parallel and independently: a target with a missing blob gets nothing, the others are tagged. Then
 * the first failure is thrown (Step Functions retries a retryable one; the re-run skips what is done).
 *
 * @throws LargeImageError BLOBS_MISSING (fatal), DIGEST_MISMATCH (fatal), registry errors (by their class).
 * @example
 * const published = await publishManifests(state, { adapters });
 */
export async function publishManifests(state: LargeImageState, deps: LargeImageStepDeps): Promise<PublishedTarget[]> {
  const plan = planOf(state);
  const source = adapterOf(deps, state.sourceRegistry).oci;
  const cache = new Map<string, Promise<Manifest>>();
  const getSource = (digest: string): Promise<Manifest> => {
    let p = cache.get(digest);
    if (!p) {
      p = source.manifestGet(state.repository, digest).then((m) => {
        if (m.digest !== digest) throw new LargeImageError('DIGEST_MISMATCH', `the source served ${m.digest} for ${state.repository}@${digest}`, { retryable: false });
        return m;
      });
      cache.set(digest, p);
    }
    return p;
  };
  const results = await Promise.allSettled(state.targets.map((t, i) => publishTarget(state, getSource, i, t, plan.targets[i] as PlannedTarget, deps)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => toLargeImageError(r.reason, 'PUBLISH_FAILED'));
  if (failures.length > 0) {
    // Every failed target out of rate budget: throw the longest wait, which the step answers as a deferral
    // (the ASL Waits, then publishes again; what was pushed is skipped by HEAD).
    const waits = failures.map((f) => deferralOf(f)?.retryAfterSeconds);
    if (waits.every((w) => w !== undefined)) throw failures[waits.indexOf(Math.max(...(waits as number[])))] as LargeImageError;
    // Otherwise the first failure that is not a wait decides. Retry only when every such failure may heal; a fatal
    // one would fail the retries the same way.
    const decisive = failures.filter((_, i) => waits[i] === undefined);
    const retryable = decisive.every((f) => f.retryable);
    const first = decisive[0] as LargeImageError;
    throw new LargeImageError(first.code, failures.map((f) => f.message.replace(/^\[[A-Z0-9_]+\]\s*/, '')).join('; '), { retryable, cause: first });
  }
  return results.map((r) => (r as PromiseFulfilledResult<PublishedTarget>).value);
}
