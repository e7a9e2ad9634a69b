// Decides whether an image is copied inline or fanned out: the bytes still missing at the targets against the invocation's budget.
import type { Registry } from '../../oci/registry.ts';
import type { Descriptor, Manifest } from '../../oci/types.ts';
import type { Environment } from '../../env.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Environment variables of the fan-out decision (docs/LARGE_IMAGES.md). */
export const FANOUT_ENV = {
  maxBytes: 'REGMAN_FANOUT_BYTES',
  throughput: 'REGMAN_FANOUT_THROUGHPUT',
  safety: 'REGMAN_FANOUT_SAFETY',
  stateMachineArn: 'REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN',
} as const;

export interface FanoutPolicy {
  /** Missing bytes (summed over targets) above which an image fans out. @default 2 GiB */
  readonly maxBytes: number;
  /** Bytes per second one invocation is assumed to copy. @default 50 MiB/s */
  readonly throughputBytesPerSecond: number;
  /** Share of the remaining time the copy may use. @default 0.5 */
  readonly safetyFactor: number;
}

export const DEFAULT_FANOUT_POLICY: FanoutPolicy = { maxBytes: 2 * GiB, throughputBytesPerSecond: 50 * MiB, safetyFactor: 0.5 };

/** What is to be copied: every unique blob's bytes, and those still missing at the targets. */
export interface CopyEstimate {
  readonly totalBytes: number;
  /** Summed over targets; equals `totalBytes × targets` when the targets were not asked (under the limit). */
  readonly missingBytes: number;
  readonly blobs: number;
  /** True when the targets were HEADed for each blob. */
  readonly checkedTargets: boolean;
}

export interface FanoutDecision {
  readonly fanout: boolean;
  readonly limitBytes: number;
  readonly reason: string;
}

function positive(env: Environment, name: string, fallback: number): number {
  const raw = env.optional(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Environment variable ${name} must be a positive number, got "${raw}"`);
  return value;
}

/** The policy from REGMAN_FANOUT_BYTES / _THROUGHPUT / _SAFETY, defaults for the unset ones. */
export function fanoutPolicyFromEnvironment(env: Environment): FanoutPolicy {
  const safetyFactor = positive(env, FANOUT_ENV.safety, DEFAULT_FANOUT_POLICY.safetyFactor);
  if (safetyFactor > 1) throw new Error(`Environment variable ${FANOUT_ENV.safety} must be in (0, 1], got ${safetyFactor}`);
  return {
    maxBytes: positive(env, FANOUT_ENV.maxBytes, DEFAULT_FANOUT_POLICY.maxBytes),
    throughputBytesPerSecond: positive(env, FANOUT_ENV.throughput, DEFAULT_FANOUT_POLICY.throughputBytesPerSecond),
    safetyFactor,
  };
}

/** The byte budget of this invocation: the policy's maximum, lowered by what the remaining time allows. Pure. */
export function fanoutLimitBytes(policy: FanoutPolicy, remainingMs?: number): number {
  if (remainingMs === undefined) return policy.maxBytes;
  const byTime = Math.floor((Math.max(0, remainingMs) / 1000) * policy.throughputBytesPerSecond * policy.safetyFactor);
  return Math.min(policy.maxBytes, byTime);
}

/**
 * Fan out when the bytes still missing exceed the limit (pure).
 *
 * @example
 * decideFanout({ totalBytes: 3 * GiB, missingBytes: 3 * GiB, blobs: 12, checkedTargets: true }, DEFAULT_FANOUT_POLICY, 840_000)
 * // { fanout: true, limitBytes: 2147483648, reason: '3221225472 bytes to copy > limit 2147483648 …' }
 */
export function decideFanout(estimate: CopyEstimate, policy: FanoutPolicy, remainingMs?: number): FanoutDecision {
  const limitBytes = fanoutLimitBytes(policy, remainingMs);
  const fanout = estimate.missingBytes > limitBytes;
  const why = remainingMs !== undefined && limitBytes < policy.maxBytes ? ` (time-bound: ${Math.round(remainingMs / 1000)} s left)` : '';
  return {
    fanout,
    limitBytes,
    reason: `${estimate.missingBytes} bytes to copy ${fanout ? '>' : '<='} limit ${limitBytes}${why}`,
  };
}

/** Unique blobs of a manifest and, for an index, of its children (platform filters ignored: an over-estimate). */
async function uniqueBlobs(source: Registry, repository: string, root: Manifest): Promise<Descriptor[]> {
  const manifests = root.kind === 'index' ? await Promise.all(root.manifests.map((c) => source.manifestGet(repository, c.digest))) : [root];
  const byDigest = new Map<string, Descriptor>();
  for (const m of manifests) for (const b of [...(m.config ? [m.config] : []), ...m.layers]) byDigest.set(b.digest, b);
  return [...byDigest.values()];
}

/**
 * Estimates the copy of `digest` to `targets`: reads the source manifest (and an index's children);
 * only when the total is over `limitBytes` are the targets HEADed for each blob (so a small image
 * costs one or two GETs more than an inline copy, nothing else).
 */
export async function estimateCopy(
  source: { registry: Registry; repository: string; digest: string },
  targets: readonly { registry: Registry; repository: string }[],
  limitBytes: number,
): Promise<CopyEstimate> {
  const root = await source.registry.manifestGet(source.repository, source.digest);
  const blobs = await uniqueBlobs(source.registry, source.repository, root);
  const totalBytes = blobs.reduce((sum, b) => sum + b.size, 0);
  if (totalBytes * targets.length <= limitBytes) return { totalBytes, missingBytes: totalBytes * targets.length, blobs: blobs.length, checkedTargets: false };
  let missingBytes = 0;
  for (const t of targets) {
    const present = await Promise.all(blobs.map((b) => t.registry.blobHead(t.repository, b.digest)));
    blobs.forEach((b, i) => {
      if (present[i] === undefined) missingBytes += b.size;
    });
  }
  return { totalBytes, missingBytes, blobs: blobs.length, checkedTargets: true };
}
