// The public API of the registry adapters: the interface, the factory, credentials, listing and sync.
export type * from './adapter.ts';
export type { AdapterDeps, OciEndpointOverride } from './deps.ts';
export { CredentialError, UnsupportedOperationError, type CredentialProblem, type CredentialErrorOptions } from './errors.ts';
export {
  SecretsManagerResolver, SecretCredentialProvider, EnvPrefixCredentialProvider, AnonymousCredentialProvider,
  resolveCredentials, parseSecretCredentials, describeSecretReference, SECRET_FORMATS,
  type SecretResolver, type SecretReference, type SecretsManagerResolverOptions, type ResolveCredentialsOptions, type ParseSecretOptions,
} from './secrets.ts';
export { listImagesViaOci, type ListImagesViaOciOptions } from './oci/listing.ts';
export { createOciAdapter } from './oci/adapter.ts';
export { createAdapter, createAdapters, closeAdapters } from './factory.ts';
export { syncRepository, repositoryPath, type SyncRepositoryOptions, type SyncEvent, type SyncResult, type SyncTargetResult, type SyncTagOutcome } from './sync.ts';
export { mapLimit } from './map-limit.ts';
export { createEcrAdapter, EcrAdapter, EcrError, EcrImageFailureError, isScanFindingsSource, type EcrAdapterDeps, type ScanFindings, type ScanFindingsSource } from './ecr/adapter.ts';
export { createGarAdapter, createGcrAdapter, type GoogleAdapterDeps } from './gar/adapter.ts';
export { createAcrAdapter, acrLoginServer, type AcrAdapterDeps } from './acr/adapter.ts';
export { createDockerHubAdapter, DOCKER_HUB_OCI_HOST, type DockerHubAdapter, type DockerHubAdapterDeps } from './dockerhub/adapter.ts';
export { RateBudget, RateLimitedError, isRateLimitedError, findRateLimitedError } from './rate-budget.ts';
