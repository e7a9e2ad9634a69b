// Replication rule matching (pure): which targets an image goes to, under which repository name, and which events to skip.
import { compilePattern, matchesAny } from '../config/patterns.ts';
import type { RegmanConfig, ReplicationRule, ReplicationTarget } from '../config/types.ts';
import type { ImageActionEvent } from './event.ts';

/** One target an image goes to, under one rule. */
export interface ReplicationTargetMatch {
  /** Name of the rule that matched. */
  readonly rule: string;
  /** Registry name in the config. */
  readonly targetRegistry: string;
  /** Repository name at the target, relative to the target registry's namespace. */
  readonly targetRepository: string;
  /** Copy signatures, SBOMs and attestations with the image. */
  readonly referrers: boolean;
  /** Platform filter of a multi-platform index (copyImage's `platforms`). */
  readonly platforms?: readonly string[];
  /** The rule is `protected: true`: a quarantined digest does not go along it. */
  readonly protected?: true;
}

/** `sha256-<hex>` (OCI referrers fallback tag) and cosign `sha256-<hex>.sig|.att|.sbom` tags. */
const REFERRER_TAG = /^(sha256)-([0-9a-f]{64})(?:\.(sig|att|sbom))?$/;

/** Why an untagged push is not replicated on its own. */
export const UNTAGGED_REASON = 'untagged manifest (a child or referrer travels with its index/subject)';

/**
 * The subject digest a referrer tag points at (`sha256-abc….sig` → `sha256:abc…`), or undefined for an
 * ordinary tag. Such tags are pushed after their subject (cosign sign, `oras attach` without the
 * referrers API), so they are matched by repository only and copied when their subject is present.
 */
export function referrerTagSubject(tag: string): string | undefined {
  const m = REFERRER_TAG.exec(tag);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/**
 * The repository name at a target: `repositoryPrefix/<name>`, or `rename.replace` applied where
 * `rename.match` matches (a name it does not match keeps its name), or the name unchanged.
 */
export function targetRepositoryName(target: ReplicationTarget, repository: string): string {
  if (target.repositoryPrefix !== undefined) return `${target.repositoryPrefix.replace(/\/+$/, '')}/${repository}`;
  if (target.rename !== undefined) return repository.replace(renameRegex(target.rename.match), target.rename.replace);
  return repository;
}

/** `rename.match` is a regex with or without the `/…/flags` slashes (see the config schema). */
function renameRegex(match: string): RegExp {
  const m = /^\/(.+)\/([dimsuv]*)[gy]*$/s.exec(match);
  return m ? new RegExp(m[1] ?? '', m[2] ?? '') : new RegExp(match);
}

function ruleMatchesTag(rule: ReplicationRule, tag: string | undefined): boolean {
  if (tag === undefined) return true;
  // A referrer tag follows its subject, whatever the tag filters say (they name release tags).
  if (rule.referrers && referrerTagSubject(tag) !== undefined) return true;
  return matchesAny(tag, rule.tags.include, rule.tags.exclude);
}

/**
 * Every target `repository` (relative to the source registry's namespace) goes to, for every rule
 * whose source is `sourceRegistry`, whose repository patterns match, and whose tag filters pass
 * `tag`. Without `tag`, only the repository patterns are checked. A target reached by two rules under
 * the same repository name is listed once (first rule wins). Pure.
 *
 * @example
 * matchReplicationTargets(config, 'source', 'team/app', 'v1.2')
 * // [{ rule: 'mirror-releases', targetRegistry: 'target-b', targetRepository: 'mirror/team/app', referrers: true }]
 */
export function matchReplicationTargets(config: Pick<RegmanConfig, 'replication'>, sourceRegistry: string, repository: string, tag?: string): ReplicationTargetMatch[] {
  const out: ReplicationTargetMatch[] = [];
  const seen = new Set<string>();
  for (const rule of config.replication) {
    if (rule.source !== sourceRegistry) continue;
    if (!rule.repositories.some((p) => compilePattern(p)(repository))) continue;
    if (!ruleMatchesTag(rule, tag)) continue;
    for (const target of rule.targets) {
      const targetRepository = targetRepositoryName(target, repository);
      const key = `${target.registry}\u0000${targetRepository}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        rule: rule.name,
        targetRegistry: target.registry,
        targetRepository,
        referrers: rule.referrers,
        ...(rule.platforms !== undefined ? { platforms: rule.platforms } : {}),
        ...(rule.protected ? { protected: true as const } : {}),
      });
    }
  }
  return out;
}

/** What to do with one image event. */
export type ReplicationPlan =
  | { readonly kind: 'skip'; readonly reason: string }
  | {
      readonly kind: 'replicate';
      readonly tag: string;
      readonly targets: readonly ReplicationTargetMatch[];
      /** For a referrer tag (`sha256-<hex>.sig`): its subject, which must be at a `referrers` target first. */
      readonly referrerOf?: string;
    };

/**
 * Decides from the event alone (pure): only PUSH + SUCCESS with a tag that some rule matches is
 * replicated. An untagged push is a platform manifest of an index or a referrer: ECR emits an event
 * for each, and they are copied with the tagged index / subject, so they are skipped here (never
 * failed, never copied twice).
 *
 * @param repository the event's repository relative to the source registry's namespace
 */
export function planReplication(
  config: Pick<RegmanConfig, 'replication'>,
  sourceRegistry: string,
  event: Pick<ImageActionEvent, 'actionType' | 'result' | 'tag'>,
  repository: string,
): ReplicationPlan {
  if (event.actionType !== 'PUSH') return { kind: 'skip', reason: `action-type ${event.actionType} is not replicated (only PUSH)` };
  if (event.result !== 'SUCCESS') return { kind: 'skip', reason: `result ${event.result} is not replicated (only SUCCESS)` };
  if (event.tag === undefined) return { kind: 'skip', reason: UNTAGGED_REASON };
  const targets = matchReplicationTargets(config, sourceRegistry, repository, event.tag);
  if (targets.length === 0) {
    const rules = config.replication.filter((r) => r.source === sourceRegistry).map((r) => r.name);
    return {
      kind: 'skip',
      reason: rules.length === 0 ? `no replication rule has source "${sourceRegistry}"` : `no rule (${rules.join(', ')}) matches ${repository}:${event.tag}`,
    };
  }
  const referrerOf = referrerTagSubject(event.tag);
  return { kind: 'replicate', tag: event.tag, targets, ...(referrerOf !== undefined ? { referrerOf } : {}) };
}

/** Tags a reconcile compares: those the rule's filters select, minus referrer tags when they travel with their subjects. */
export function selectReconcileTags(rule: ReplicationRule, tags: readonly string[]): string[] {
  return tags.filter((t) => !(rule.referrers && referrerTagSubject(t) !== undefined) && matchesAny(t, rule.tags.include, rule.tags.exclude));
}
