// What every registry adapter may be given from outside: clients, environment, and test hooks (no module state).
import type { SharedPullBudget } from './shared-pull-budget.ts';
import type { ECRClient, ECRClientConfig } from '@aws-sdk/client-ecr';
import type { RegistryClientOptions } from '../oci/client.ts';
import type { CredentialProvider } from '../oci/credentials.ts';
import type { CredentialReference } from '../config/types.ts';
import { resolveCredentials, type SecretResolver } from './secrets.ts';

/**
 * Where an adapter reaches a registry's OCI API, when not at its configured host: tests point a
 * cloud registry's host (`…dkr.ecr…amazonaws.com`) at a loopback registry. Returned fields override
 * the adapter's own client options.
 */
export type OciEndpointOverride = (host: string) => Partial<Pick<RegistryClientOptions, 'host' | 'plainHttp' | 'insecure'>> | undefined;

/**
 * The dependencies of `createAdapter` and every `create<Kind>Adapter(name, config, deps)`. Every
 * field is optional: production code passes `{}` (or a shared `secrets`) and gets the real clients.
 *
 * @example
 * const adapter = createAdapter('harbor', config.registries.harbor, { secrets: new SecretsManagerResolver() });
 */
export interface AdapterDeps {
  /**
   * Pulls counted across invocations (DynamoDB): Docker Hub's limit is per account per window, so one
   * Lambda's in-process budget cannot see what the others spent. @default none (in-process only)
   */
  readonly sharedPullBudget?: SharedPullBudget;
  /**
   * Reads Secrets Manager credential references (`secretArn` / `secretName`).
   * @default a `SecretsManagerResolver` created on first use (one per `createAdapters` call)
   */
  readonly secrets?: SecretResolver;
  /** Environment for `env: PREFIX` credential references, read at run time. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Docker config file for `dockerConfig: true`. @default $DOCKER_CONFIG/config.json or ~/.docker/config.json */
  readonly dockerConfigPath?: string;
  /**
   * Builds the ECR control-plane client for a region (and, for `iamRole`, assumed-role credentials).
   * Tests pass one whose `send` is mocked with aws-sdk-client-mock.
   * @default `new ECRClient({ region, credentials })`
   */
  readonly ecrClientFactory?: (region: string, credentials?: ECRClientConfig['credentials']) => ECRClient;
  /** User-Agent of the OCI client and the vendor APIs. @default `registry-manager/<version>` */
  readonly userAgent?: string;
  /** `fetch` for vendor HTTP APIs (Docker Hub's API, ACR's token exchange). @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
  /** See OciEndpointOverride. @default none: every adapter talks to its configured host */
  readonly ociEndpoint?: OciEndpointOverride;
  /** Extra OCI client options (retries, timeouts, concurrency) for every adapter's data plane. */
  readonly ociOptions?: Partial<Omit<RegistryClientOptions, 'host' | 'credentials'>>;
}

/**
 * The CredentialProvider for a configured registry's credential reference, with the deps' secrets
 * resolver, environment and docker config (anonymous when the reference is absent).
 */
export function credentialsFromDeps(name: string, ref: CredentialReference | undefined, deps: AdapterDeps): CredentialProvider {
  return resolveCredentials(ref, {
    registryName: name,
    ...(deps.secrets !== undefined ? { secrets: deps.secrets } : {}),
    ...(deps.env !== undefined ? { env: deps.env } : {}),
    ...(deps.dockerConfigPath !== undefined ? { dockerConfigPath: deps.dockerConfigPath } : {}),
  });
}
