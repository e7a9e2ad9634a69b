// The normalized shapes of retention policies (regman rules, ECR lifecycle, GitLab cleanup): what parsePolicy returns.

/** The policy formats `parsePolicy` accepts. */
export type PolicyFormat = 'regman' | 'ecr' | 'gitlab';

/** Our own rules, normalized (see docs/RETENTION.md for the combination semantics). */
export interface NativePolicy {
  readonly format: 'regman';
  readonly repositories: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly delete: {
    readonly match: 'any' | 'all';
    readonly olderThanDays?: number;
    readonly untagged: boolean;
    readonly pulls?: { readonly fewerThan: number; readonly inDays: number };
  };
  readonly keep: {
    readonly last?: number;
    readonly tags: readonly string[];
    readonly tagRegex: readonly string[];
  };
}

export type EcrTagStatus = 'tagged' | 'untagged' | 'any';
export type EcrCountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';

/** One Amazon ECR lifecycle policy rule, validated against the AWS rules. */
export interface EcrRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: {
    readonly tagStatus: EcrTagStatus;
    readonly tagPrefixList?: readonly string[];
    readonly tagPatternList?: readonly string[];
    readonly storageClass: 'standard' | 'archive';
    readonly countType: EcrCountType;
    readonly countUnit?: 'days';
    readonly countNumber: number;
  };
  readonly action: { readonly type: 'expire' | 'transition'; readonly targetStorageClass?: 'archive' };
}

/** An Amazon ECR lifecycle policy; `rules` sorted by `rulePriority`. */
export interface EcrPolicy {
  readonly format: 'ecr';
  readonly rules: readonly EcrRule[];
}

/** A GitLab container registry cleanup policy (`container_expiration_policy`). */
export interface GitlabPolicy {
  readonly format: 'gitlab';
  readonly enabled: boolean;
  readonly keepN?: number;
  readonly olderThanDays?: number;
  /** Tags to delete (GitLab anchors it: `\A(?:…)\z`). */
  readonly nameRegex: string;
  /** Tags to keep, anchored the same way. */
  readonly nameRegexKeep?: string;
}

export type RetentionPolicy = NativePolicy | EcrPolicy | GitlabPolicy;
