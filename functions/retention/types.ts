// Plain data types of the retention planner: repository inventories, normalized policies, and plans.
import type { PolicyFormat } from '../retention-policy/types.ts';

/** One day of pull statistics for a digest (UTC day). */
export interface PullCount {
  readonly day: string;
  readonly count: number;
}

/** A blob (config or layer) referenced by an image manifest. */
export interface BlobRef {
  readonly digest: string;
  readonly size: number;
}

/**
 * Where an image's `pushedAt` came from: the registry's push time, the local stack's push log, the
 * image's own creation time (the manifest's `org.opencontainers.image.created` annotation, the config
 * blob's `created`, or its `org.opencontainers.image.created` label), or `unknown` (no trustworthy time:
 * `pushedAt` is then a placeholder, and count and age rules must not act on it). Children and referrers
 * take the source of the index or subject whose time they inherit.
 */
export type TimeSource = 'registry' | 'push-log' | 'annotation' | 'config-created' | 'config-label' | 'unknown';

/** One manifest (image, index or artifact) in a repository, as listed by `regman retention plan --inventory`. */
export interface InventoryImage {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt: string;
  /** Where `pushedAt` came from. @default 'registry' (an inventory file's times are taken as given) */
  readonly timeSource?: TimeSource;
  readonly lastPulledAt: string | null;
  readonly pulls?: readonly PullCount[];
  readonly mediaType?: string;
  readonly sizeBytes?: number;
  /** Indexes: the digests of their child manifests. */
  readonly manifests?: readonly string[];
  /** OCI 1.1 referrers: the digest of the manifest this one refers to. */
  readonly subject?: string;
  readonly blobs?: readonly BlobRef[];
}

/** Everything the planner knows about one repository. */
export interface Inventory {
  readonly repository: string;
  readonly images: readonly InventoryImage[];
}

export type { PolicyFormat, NativePolicy, EcrTagStatus, EcrCountType, EcrRule, EcrPolicy, GitlabPolicy, RetentionPolicy } from '../retention-policy/types.ts';

/** Digests retention must keep, optionally with the reason each is kept. */
export type LockedDigests = Iterable<string> | ReadonlyMap<string, string>;

export interface PlanOptions {
  /** The instant the plan is made for; ages and pull windows count back from it. */
  readonly now: Date | string;
  /**
   * Digests locked by an active promotion: never expired (nor are their children and referrers). A map
   * gives the reason each is locked (e.g. `promoted in prod (team/app)`), which the plan repeats.
   */
  readonly lockedDigests?: LockedDigests;
  /** Block the plan when it expires more than this share of the repository's images. @default 0.5 */
  readonly maxDeleteShare?: number;
  /** Plan anyway when the safety valve trips; the plan records that it was forced. @default false */
  readonly force?: boolean;
  /** Untagged images pushed less than this many hours ago are kept (rule `grace.untagged`); 0 turns it off. @default 24 */
  readonly untaggedGraceHours?: number;
}

export type DecisionAction = 'expire' | 'keep';
/** How a digest sits in the graph: an image judged by the policy, an index child, or a referrer. */
export type DigestRole = 'image' | 'child' | 'referrer';

/** What the plan says about one digest. */
export interface RetentionDecision {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly action: DecisionAction;
  /** The rule that decided: a policy rule id (`delete.olderThanDays`, `ecr:rule-2`, `gitlab:cleanup`), `lock` or `graph.*`. */
  readonly rule: string;
  /** A sentence a person can check against the inventory. */
  readonly reason: string;
  readonly role: DigestRole;
  readonly pushedAt: string;
  /** Where `pushedAt` came from (the image's `timeSource`, `registry` when the inventory did not say). */
  readonly timeSource: TimeSource;
}

export interface SafetyBlock {
  readonly reason: string;
  /** Expiring images / images (children and referrers excluded: they follow their parents). */
  readonly share: number;
  readonly maxDeleteShare: number;
}

export interface RetentionPlan {
  readonly repository: string;
  readonly policyFormat: PolicyFormat;
  readonly now: string;
  /** Every digest of the inventory, newest push first, then by digest. */
  readonly decisions: readonly RetentionDecision[];
  readonly expire: readonly RetentionDecision[];
  readonly keep: readonly RetentionDecision[];
  /** Bytes of unique blobs referenced by expiring images and by nothing kept. */
  readonly bytesFreed: number;
  /** True when some image had no `blobs` list, so `sizeBytes` stood in and sharing could not be seen. */
  readonly bytesFreedEstimated: boolean;
  /** Set when the safety valve tripped and the plan was not forced: a sweep must not apply it. */
  readonly blocked: SafetyBlock | null;
  /** Set when the safety valve tripped and `force` overrode it. */
  readonly forced: boolean;
  /** Digests to delete, each before anything it references (referrers and indexes before their targets). */
  readonly deleteOrder: readonly string[];
  /**
   * Images a count or age rule would expire but that have no trustworthy order: no known time of their
   * own, or a rank that depends on images with none. They are kept (rule `order.unknown`); a sweep's
   * `--apply` exits non-zero unless `--force`.
   */
  readonly orderBlocked: readonly string[];
  /** Things the user should know: rules that cannot act here, disabled policies. */
  readonly warnings: readonly string[];
}
