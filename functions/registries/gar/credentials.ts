// Credentials of Artifact Registry / GCR: a Google access token sent as the password of `oauth2accesstoken`.
// https://cloud.google.com/artifact-registry/docs/docker/authentication#token
import { protect, type CredentialProvider, type Credentials } from '../../oci/credentials.ts';
import type { CredentialReference } from '../../config/types.ts';
import type { AdapterDeps } from '../deps.ts';
import { describeSecretReference, parseSecretCredentials, resolveCredentials, type SecretReference } from '../secrets.ts';
import { GoogleAccessTokens, type GoogleTokenOptions, type GoogleTokenSpec } from './token.ts';
import { SecretsManagerResolver } from '../secrets.ts';

/** The username Google registries accept with an OAuth2 access token as the password. */
export const GOOGLE_TOKEN_USERNAME = 'oauth2accesstoken';

/** Hands out `oauth2accesstoken` + a fresh access token for every request for credentials. */
export class GoogleTokenCredentialProvider implements CredentialProvider {
  constructor(readonly tokens: GoogleAccessTokens) {}

  async credentialsFor(_host: string): Promise<Credentials | undefined> {
    return protect({ username: GOOGLE_TOKEN_USERNAME, password: await this.tokens.token() });
  }
}

/** True when a secret's text is a service-account key (rather than username/password or a docker config). */
function isServiceAccountKey(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('{')) return false;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    return typeof o.private_key === 'string' || o.type === 'service_account';
  } catch {
    return false;
  }
}

/**
 * A Secrets Manager secret holding either a service-account key (exchanged for access tokens) or
 * anything `parseSecretCredentials` accepts (e.g. `{"username": "_json_key", "password": "<key JSON>"}`).
 * The secret is read on each call through the resolver's TTL cache, so a rotated key takes effect.
 */
class GoogleSecretCredentialProvider implements CredentialProvider {
  private tokens: { text: string; provider: GoogleTokenCredentialProvider } | undefined;

  constructor(
    private readonly ref: SecretReference,
    private readonly deps: AdapterDeps,
    private readonly tokenOptions: GoogleTokenOptions,
    private readonly registryName: string,
  ) {}

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    const secrets = this.deps.secrets ?? new SecretsManagerResolver();
    const text = await secrets.getSecret(this.ref);
    const reference = describeSecretReference(this.ref);
    if (!isServiceAccountKey(text)) {
      return parseSecretCredentials(text, { host, reference, registryName: this.registryName, tokenUsername: GOOGLE_TOKEN_USERNAME });
    }
    if (this.tokens?.text !== text) {
      this.tokens = { text, provider: new GoogleTokenCredentialProvider(new GoogleAccessTokens({ keyJson: text, reference }, this.tokenOptions)) };
    }
    return this.tokens.provider.credentialsFor(host);
  }
}

/**
 * `env: PREFIX` for Google registries: `<PREFIX>_KEY_FILE` (a service-account key file) when set,
 * else `<PREFIX>_USERNAME` / `<PREFIX>_PASSWORD` as given.
 */
class GoogleEnvCredentialProvider implements CredentialProvider {
  private keyFile: { path: string; provider: GoogleTokenCredentialProvider } | undefined;

  constructor(
    private readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly tokenOptions: GoogleTokenOptions,
    private readonly registryName: string,
  ) {}

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    const path = this.env[`${this.prefix}_KEY_FILE`];
    if (!path) return resolveCredentials({ env: this.prefix }, { env: this.env, registryName: this.registryName }).credentialsFor(host);
    if (this.keyFile?.path !== path) {
      const spec: GoogleTokenSpec = { keyFile: path, reference: `key file ${path} (${this.prefix}_KEY_FILE)` };
      this.keyFile = { path, provider: new GoogleTokenCredentialProvider(new GoogleAccessTokens(spec, this.tokenOptions)) };
    }
    return this.keyFile.provider.credentialsFor(host);
  }
}

/**
 * The credentials of a `gar` / `gcr` registry:
 * - `secretArn` / `secretName`: a service-account key JSON (or username/password JSON);
 * - `env: PREFIX`: `<PREFIX>_KEY_FILE`, or `<PREFIX>_USERNAME` / `<PREFIX>_PASSWORD`;
 * - `dockerConfig: true`: `~/.docker/config.json` as written by `gcloud auth print-access-token | docker login`;
 * - none, on a private registry: Application Default Credentials (workload identity, the metadata
 *   server, GOOGLE_APPLICATION_CREDENTIALS or gcloud);
 * - none, on a `public: true` registry: anonymous.
 */
export function googleCredentials(
  name: string,
  ref: CredentialReference | undefined,
  isPublic: boolean,
  deps: AdapterDeps,
  tokenOptions: GoogleTokenOptions,
): CredentialProvider {
  const options: GoogleTokenOptions = { ...tokenOptions, registryName: name };
  if (ref === undefined) {
    if (isPublic) return resolveCredentials(undefined);
    return new GoogleTokenCredentialProvider(new GoogleAccessTokens({ adc: true, reference: 'Application Default Credentials' }, options));
  }
  if (ref.secretArn !== undefined || ref.secretName !== undefined) {
    const secretRef: SecretReference = ref.secretArn !== undefined ? { secretArn: ref.secretArn } : { secretName: ref.secretName as string };
    return new GoogleSecretCredentialProvider(secretRef, deps, options, name);
  }
  if (ref.env !== undefined) return new GoogleEnvCredentialProvider(ref.env, deps.env ?? process.env, options, name);
  return resolveCredentials(ref, {
    registryName: name,
    ...(deps.env !== undefined ? { env: deps.env } : {}),
    ...(deps.dockerConfigPath !== undefined ? { dockerConfigPath: deps.dockerConfigPath } : {}),
  });
}
