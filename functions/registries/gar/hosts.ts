// Where Artifact Registry and GCR keep a project's images: host and repository prefix (pure).
import type { GarRegistryConfig, GcrRegistryConfig } from '../../config/types.ts';

/**
 * A domain-scoped project id (`example.com:my-project`) is written `example.com/my-project` in image
 * paths: https://cloud.google.com/artifact-registry/docs/docker/names#domain
 */
export function projectPath(project: string): string {
  return project.replace(':', '/');
}

/** `<location>-docker.pkg.dev` unless the config names the host. */
export function garHost(config: Pick<GarRegistryConfig, 'location' | 'host'>): string {
  return config.host ?? `${config.location}-docker.pkg.dev`;
}

/**
 * The repository prefix of a GAR registry: `<project>` (every Artifact Registry repository of the
 * project at this location), or `<project>/<repository>` when the config pins one Artifact Registry
 * repository (`repository`, not yet in the schema).
 */
export function garNamespace(config: Pick<GarRegistryConfig, 'project'> & { readonly repository?: string }): string {
  const project = projectPath(config.project);
  return config.repository ? `${project}/${config.repository}` : project;
}

/** GCR: `gcr.io/<project>/…` (or us./eu./asia.gcr.io). */
export function gcrHostAndNamespace(config: Pick<GcrRegistryConfig, 'project' | 'host'>): { host: string; namespace: string } {
  return { host: config.host, namespace: projectPath(config.project) };
}

/** `app` → `<namespace>/app`: the path the OCI API uses. */
export function qualify(namespace: string, repository: string): string {
  return namespace ? `${namespace}/${repository}` : repository;
}

/**
 * Catalog names under the namespace, relative to it; the catalog of a Google host lists every
 * repository the caller can see, in any project.
 */
export function underNamespace(namespace: string, names: readonly string[]): string[] {
  if (!namespace) return [...names];
  const prefix = `${namespace}/`;
  return names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
}
