// Pure: maps a GitHub release / tag push or a GitLab tag push event to the promotion edges whose triggers match.
// GitHub payloads: https://docs.github.com/en/webhooks/webhook-events-and-payloads (release, push);
// GitLab: https://docs.gitlab.com/user/project/integrations/webhook_events/#tag-events
import { compilePattern } from '../config/patterns.ts';

/** A trigger as configured under `promotion[].triggers` (functions/config/schema-triggers.ts). */
export interface TriggerConfig {
  readonly provider: 'github' | 'gitlab';
  readonly event: 'release' | 'tag';
  readonly project?: string | undefined;
  readonly tags: readonly string[];
  readonly repository: string;
}

export interface EdgeWithTriggers {
  readonly from: string;
  readonly to: string;
  readonly triggers?: readonly TriggerConfig[];
}

/** A CI event reduced to what triggers match on. */
export interface CiEvent {
  readonly provider: 'github' | 'gitlab';
  readonly event: 'release' | 'tag';
  readonly project: string;
  readonly tag: string;
  /** Who caused it (GitHub sender login, GitLab user_username): recorded as the requester. */
  readonly actor?: string;
}

/** A promotion to start. */
export interface TriggeredPromotion {
  readonly from: string;
  readonly to: string;
  readonly repository: string;
  readonly tag: string;
  readonly requestedBy: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Reads the event GitHub (`X-GitHub-Event`) or GitLab (`X-Gitlab-Event`) sent; undefined for events no
 * trigger can match (a release that is not `published`, a branch push, a deleted tag, a ping).
 */
export function parseCiEvent(provider: 'github' | 'gitlab', eventName: string | undefined, body: unknown): CiEvent | undefined {
  const b = obj(body);
  if (b === undefined) return undefined;
  if (provider === 'github') {
    const project = str(obj(b.repository)?.full_name);
    const actor = str(obj(b.sender)?.login);
    if (eventName === 'release') {
      const tag = str(obj(b.release)?.tag_name);
      if (b.action !== 'published' || tag === undefined || project === undefined) return undefined;
      return { provider, event: 'release', project, tag, ...(actor ? { actor } : {}) };
    }
    if (eventName === 'push') {
      const ref = str(b.ref);
      if (ref === undefined || !ref.startsWith('refs/tags/') || b.deleted === true || project === undefined) return undefined;
      return { provider, event: 'tag', project, tag: ref.slice('refs/tags/'.length), ...(actor ? { actor } : {}) };
    }
    return undefined;
  }
  if (eventName !== 'Tag Push Hook' && b.object_kind !== 'tag_push') return undefined;
  const ref = str(b.ref);
  const project = str(obj(b.project)?.path_with_namespace);
  // A deleted tag arrives with `after` all zeros.
  if (ref === undefined || !ref.startsWith('refs/tags/') || project === undefined || /^0+$/.test(String(b.after ?? ''))) return undefined;
  const actor = str(b.user_username);
  return { provider, event: 'tag', project, tag: ref.slice('refs/tags/'.length), ...(actor ? { actor } : {}) };
}

/** Every edge trigger the event matches, as promotions to start (one per matching edge and trigger). */
export function mapCiEvent(event: CiEvent, edges: readonly EdgeWithTriggers[]): TriggeredPromotion[] {
  const out: TriggeredPromotion[] = [];
  for (const edge of edges) {
    for (const t of edge.triggers ?? []) {
      if (t.provider !== event.provider || t.event !== event.event) continue;
      if (t.project !== undefined && t.project.toLowerCase() !== event.project.toLowerCase()) continue;
      if (!t.tags.some((p) => compilePattern(p)(event.tag))) continue;
      out.push({ from: edge.from, to: edge.to, repository: t.repository, tag: event.tag, requestedBy: `${event.provider}:${event.actor ?? event.project}` });
    }
  }
  return out;
}
