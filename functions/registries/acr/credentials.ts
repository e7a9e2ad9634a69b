// Where an ACR registry's identity comes from: a service principal, a managed identity, or a
// username/password (admin user, repository-scoped token), per the config's credential reference.
import { ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential, type AccessToken, type TokenCredential } from './aad.ts';
import type { CredentialProvider, Credentials } from '../../oci/credentials.ts';
import type { CredentialReference } from '../../config/types.ts';
import { registerSecret } from '../../oci/redact.ts';
import type { AdapterDeps } from '../deps.ts';
import { CredentialError } from '../errors.ts';
import { describeSecretReference, parseSecretCredentials, resolveCredentials, SecretsManagerResolver, type SecretReference } from '../secrets.ts';

/** A service principal as stored in a secret or env vars. */
export interface ServicePrincipal {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** How the adapter authenticates to one ACR. */
export type AcrIdentity =
  /** An AAD identity: its tokens go through ACR's token exchange. */
  | { readonly kind: 'aad'; readonly credential: TokenCredential; readonly reference: string; readonly tenant?: string }
  /** Username/password (admin user, token password) or an identity token from a docker config: Basic at /oauth2/token. */
  | { readonly kind: 'basic'; readonly provider: CredentialProvider; readonly reference: string }
  | { readonly kind: 'anonymous' };

/** A `{ tenantId, clientId, clientSecret }` JSON secret (the shape `az ad sp create-for-rbac` prints, with its `appId`/`password`/`tenant` names accepted too). */
export function parseServicePrincipal(text: string): ServicePrincipal | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(t) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const tenantId = o.tenantId ?? o.tenant;
  const clientId = o.clientId ?? o.appId;
  const clientSecret = o.clientSecret ?? (o.appId !== undefined ? o.password : undefined);
  if (typeof tenantId !== 'string' || typeof clientId !== 'string' || typeof clientSecret !== 'string') return undefined;
  registerSecret(clientSecret);
  return { tenantId, clientId, clientSecret };
}

/**
 * An AAD TokenCredential that reads its service principal from a Secrets Manager secret when first
 * asked (adapters are built without touching Secrets Manager), then keeps the ClientSecretCredential.
 */
class SecretServicePrincipalCredential implements TokenCredential {
  private inner: Promise<TokenCredential> | undefined;

  constructor(
    private readonly ref: SecretReference,
    private readonly deps: AdapterDeps,
    private readonly registryName: string,
  ) {}

  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.inner ??= (async () => {
      const text = await (this.deps.secrets ?? new SecretsManagerResolver()).getSecret(this.ref);
      const sp = parseServicePrincipal(text);
      if (sp === undefined) {
        throw new CredentialError(
          `${describeSecretReference(this.ref)} (credentials of ACR "${this.registryName}") holds no service principal: ` +
            'store {"tenantId": "…", "clientId": "…", "clientSecret": "…"} or {"username": "…", "password": "…"}',
          { problem: 'bad-format', reference: describeSecretReference(this.ref), registryName: this.registryName },
        );
      }
      return new ClientSecretCredential(sp.tenantId, sp.clientId, sp.clientSecret, this.deps.env !== undefined ? { env: this.deps.env } : {});
    })();
    this.inner.catch(() => {
      this.inner = undefined;
    });
    return (await this.inner).getToken(scopes);
  }
}

/**
 * A secret holds either a service principal or a username/password. Which one is only known once it
 * is read, so both paths are offered and the adapter asks `isServicePrincipal()` first.
 */
export class AcrSecretIdentity {
  constructor(
    readonly ref: SecretReference,
    private readonly deps: AdapterDeps,
    private readonly registryName: string,
  ) {}

  async isServicePrincipal(): Promise<boolean> {
    return parseServicePrincipal(await (this.deps.secrets ?? new SecretsManagerResolver()).getSecret(this.ref)) !== undefined;
  }

  credential(): TokenCredential {
    return new SecretServicePrincipalCredential(this.ref, this.deps, this.registryName);
  }

  basic(): CredentialProvider {
    const ref = this.ref;
    const deps = this.deps;
    const registryName = this.registryName;
    return {
      async credentialsFor(host: string): Promise<Credentials | undefined> {
        const text = await (deps.secrets ?? new SecretsManagerResolver()).getSecret(ref);
        return parseSecretCredentials(text, { host, reference: describeSecretReference(ref), registryName });
      },
    };
  }
}

/** ACR-specific hooks on top of AdapterDeps. */
export interface AcrAdapterDeps extends AdapterDeps {
  /**
   * The AAD credential to use instead of the one the reference implies (tests: a fixed token; the
   * Azure control plane cannot run here).
   */
  readonly azureCredential?: TokenCredential;
  /** Exchange for a new ACR refresh token this long before the current one expires. @default 5 minutes */
  readonly tokenRefreshMarginMs?: number;
}

/**
 * The identity of an `acr` registry:
 * - `deps.azureCredential`: that AAD credential;
 * - `secretArn` / `secretName`: a service principal JSON, or a username/password JSON (admin user,
 *   token) — decided when the secret is read;
 * - `env: PREFIX`: `<PREFIX>_TENANT_ID`, `<PREFIX>_CLIENT_ID`, `<PREFIX>_CLIENT_SECRET` (service principal), or
 *   `<PREFIX>_USERNAME` / `<PREFIX>_PASSWORD`;
 * - `dockerConfig: true`: `~/.docker/config.json` (`az acr login` writes an identity token there);
 * - none, on a private registry: workload identity when `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID` and
 *   `AZURE_TENANT_ID` are set (AKS workload identity); otherwise the managed identity (App Service's
 *   `IDENTITY_ENDPOINT`, else IMDS; `AZURE_CLIENT_ID` picks a user-assigned one);
 * - `AZURE_AUTHORITY_HOST` replaces https://login.microsoftonline.com (other clouds);
 * - none, on a `public: true` registry: anonymous.
 */
export function acrIdentity(
  name: string,
  ref: CredentialReference | undefined,
  isPublic: boolean,
  deps: AcrAdapterDeps,
): AcrIdentity | AcrSecretIdentity {
  if (deps.azureCredential) return { kind: 'aad', credential: deps.azureCredential, reference: 'the AAD credential given' };
  const env = deps.env ?? process.env;
  if (ref === undefined) {
    if (isPublic) return { kind: 'anonymous' };
    const clientId = env.AZURE_CLIENT_ID || undefined;
    const tenantId = env.AZURE_TENANT_ID;
    const tokenFile = env.AZURE_FEDERATED_TOKEN_FILE;
    if (clientId && tenantId && tokenFile) {
      return { kind: 'aad', credential: new WorkloadIdentityCredential(tenantId, clientId, tokenFile, { env }), reference: 'the workload identity', tenant: tenantId };
    }
    return { kind: 'aad', credential: new ManagedIdentityCredential(clientId, { env }), reference: 'the managed identity' };
  }
  if (ref.secretArn !== undefined || ref.secretName !== undefined) {
    return new AcrSecretIdentity(ref.secretArn !== undefined ? { secretArn: ref.secretArn } : { secretName: ref.secretName as string }, deps, name);
  }
  if (ref.env !== undefined) {
    const p = ref.env;
    const tenantId = env[`${p}_TENANT_ID`];
    const clientId = env[`${p}_CLIENT_ID`];
    const clientSecret = env[`${p}_CLIENT_SECRET`];
    if (tenantId && clientId && clientSecret) {
      registerSecret(clientSecret);
      return { kind: 'aad', credential: new ClientSecretCredential(tenantId, clientId, clientSecret, { env }), reference: `service principal from env ${p}`, tenant: tenantId };
    }
  }
  return {
    kind: 'basic',
    reference: ref.env !== undefined ? `env ${ref.env}` : 'docker config',
    provider: resolveCredentials(ref, {
      registryName: name,
      ...(deps.env !== undefined ? { env: deps.env } : {}),
      ...(deps.dockerConfigPath !== undefined ? { dockerConfigPath: deps.dockerConfigPath } : {}),
    }),
  };
}
