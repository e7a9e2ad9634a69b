// The public API of the OCI distribution client.
export * from './errors.ts';
export * from './media-types.ts';
export type * from './types.ts';
export type * from './registry.ts';
export { parseReference, formatReference, referenceTarget, registryEndpoint, repositoryProblem, tagProblem, DEFAULT_REGISTRY, DEFAULT_TAG } from './reference.ts';
export { sha256Digest, digestOf, parseDigest, digestProblem, isDigest, DigestVerifier, type ParsedDigest } from './digest.ts';
export { redact, registerSecret, REDACTED } from './redact.ts';
export {
  StaticCredentialProvider, EnvCredentialProvider, DockerConfigCredentialProvider, ChainCredentialProvider, defaultCredentialProvider,
  type CredentialProvider, type Credentials, type PasswordCredentials, type IdentityTokenCredentials,
} from './credentials.ts';
export { localCredentialProvider, credentialFiles, type CredentialFile } from './credential-files.ts';
export { CredentialHelperError } from './credential-helper.ts';
export { parseWwwAuthenticate, repositoryScope, type Challenge, type Action } from './auth.ts';
export { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter, type RetryPolicy } from './retry.ts';
export { Transport, type TransportOptions, type TransportRequest, type TransportResponse } from './transport.ts';
export { errorFromResponse, parseErrorBody } from './http-errors.ts';
export { parseManifest, manifestDescriptor } from './manifest.ts';
export { bufferOpener } from './blob.ts';
export { RegistryClient, nextLink, type RegistryClientOptions } from './client.ts';
