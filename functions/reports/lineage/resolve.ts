// Which configured registry an image reference names (by host), and under which repositories the audit log records it. Pure.
import type { RegmanConfig } from '../../config/index.ts';

/**
 * The registry whose host is the reference's: a configured adapter's host first, then the local
 * stack's registries (`endpoints.json`: name → `http://127.0.0.1:PORT`). Undefined when none is.
 */
export function registryForHost(host: string, configured: readonly { readonly name: string; readonly host: string }[], local: Readonly<Record<string, string>> = {}): string | undefined {
  const h = host.toLowerCase();
  const hit = configured.find((c) => c.host.toLowerCase() === h);
  if (hit) return hit.name;
  return Object.entries(local).find(([, url]) => new URL(url).host.toLowerCase() === h)?.[0];
}

/**
 * Replication records name the source repository (and the target's in `details.targetRepository`), so
 * an image on a target that a rule writes under `repositoryPrefix` is found under the unprefixed name too.
 *
 * @example
 * auditRepositoriesFor(config, 'target-b', 'mirror/team/app') // ['mirror/team/app', 'team/app']
 */
export function auditRepositoriesFor(config: Pick<RegmanConfig, 'replication'> | undefined, registry: string | undefined, repository: string): string[] {
  const out = [repository];
  for (const rule of config?.replication ?? []) {
    for (const t of rule.targets) {
      const prefix = t.repositoryPrefix?.replace(/\/+$/, '');
      if (t.registry === registry && prefix && repository.startsWith(`${prefix}/`)) out.push(repository.slice(prefix.length + 1));
    }
  }
  return [...new Set(out)];
}
