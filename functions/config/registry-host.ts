// The registry host (and the repository namespace) each configured registry kind implies.
import type { RegistryConfig } from './types.ts';

/**
 * The host that serves the registry's OCI API.
 *
 * @example
 * registryHost({ kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', ... }) // '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
 */
export function registryHost(registry: RegistryConfig): string {
  switch (registry.kind) {
    case 'ecr':
      return `${registry.accountId}.dkr.ecr.${registry.region}.amazonaws.com`;
    case 'gar':
      return registry.host ?? `${registry.location}-docker.pkg.dev`;
    case 'gcr':
      return registry.host;
    case 'acr':
      return registry.loginServer ?? `${(registry.name ?? '').toLowerCase()}.azurecr.io`;
    case 'dockerhub':
      // Docker Hub's API host; `docker.io` references resolve to it.
      return 'registry-1.docker.io';
    case 'oci':
      return new URL(registry.url).host;
  }
}

/** The path every repository of this registry sits under: `project/` for GAR and GCR, the namespace for Docker Hub. */
export function repositoryNamespace(registry: RegistryConfig): string {
  switch (registry.kind) {
    case 'gar':
    case 'gcr':
      return registry.project;
    case 'dockerhub':
      return registry.namespace;
    default:
      return '';
  }
}
