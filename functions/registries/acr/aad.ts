// Microsoft Entra ID (AAD) access tokens over plain HTTP, without the Azure SDKs: a service principal's
// client secret, workload identity federation, and the managed identity (IMDS, App Service).
//
// - client credentials: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// - federated assertion: the same grant with client_assertion (https://azure.github.io/azure-workload-identity/docs/)
// - IMDS: https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
// - App Service: https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
import { readFile } from 'node:fs/promises';
import { redact, registerSecret } from '../../oci/redact.ts';
import { sleep as realSleep } from '../../oci/retry.ts';
import { CredentialError, type CredentialProblem } from '../errors.ts';

/** An AAD access token and when it expires (ms since the epoch): the shape @azure/identity used, kept so callers and fakes stay the same. */
export interface AccessToken {
  readonly token: string;
  readonly expiresOnTimestamp: number;
}

/** Gets AAD access tokens for a scope (`<resource>/.default`). */
export interface TokenCredential {
  getToken(scopes: string | string[]): Promise<AccessToken | null>;
}

/** AAD's public cloud; AZURE_AUTHORITY_HOST names another (sovereign clouds, a local test server). */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** IMDS; AZURE_POD_IDENTITY_AUTHORITY_HOST overrides it, as in @azure/identity and MSAL. */
export const DEFAULT_IMDS_HOST = 'http://169.254.169.254';

/** Renew a cached token this long before it expires (or at half its life, when that is sooner). @default 5 minutes */
const DEFAULT_MARGIN_MS = 5 * 60 * 1000;
/** A token request that has had no answer for this long is abandoned. */
const REQUEST_TIMEOUT_MS = 15_000;
/** Token endpoint answers are small JSON; read no more. */
const MAX_BODY_CHARS = 64 * 1024;

export interface AadCredentialOptions {
  /** The environment (AZURE_AUTHORITY_HOST, IDENTITY_ENDPOINT, …). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
  /** Waits between retries (tests make it instant). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 5 minutes */
  readonly marginMs?: number;
}

interface TokenRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly form?: URLSearchParams;
}

/** Statuses worth another try: throttling, server errors, and IMDS's 404/410 while the identity is being set up. */
function retryable(status: number, imds: boolean): boolean {
  return status === 429 || status >= 500 || (imds && (status === 404 || status === 410));
}

/**
 * A credential that fetches tokens with `fetchToken` and keeps one per scope until shortly before it
 * expires; concurrent callers share one request.
 */
abstract class CachingCredential implements TokenCredential {
  private readonly cache = new Map<string, Promise<AccessToken>>();
  protected readonly env: Readonly<Record<string, string | undefined>>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly marginMs: number;

  /** For messages: where tokens come from, e.g. `service principal 1234… of tenant contoso`. Never a secret. */
  abstract readonly source: string;

  constructor(options: AadCredentialOptions) {
    this.env = options.env ?? process.env;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.marginMs = options.marginMs ?? DEFAULT_MARGIN_MS;
  }

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const list = Array.isArray(scopes) ? scopes : [scopes];
    const scope = list[0];
    if (scope === undefined || list.length !== 1) {
      throw this.error('unsupported', `one scope at a time is supported (asked for ${JSON.stringify(list)})`);
    }
    const cached = this.cache.get(scope);
    if (cached !== undefined) {
      const t = await cached.catch(() => undefined);
      if (t !== undefined && this.now() < this.renewAt(t)) return t;
      if (this.cache.get(scope) === cached) this.cache.delete(scope);
    }
    let pending = this.cache.get(scope);
    if (pending === undefined) {
      const issuedAt = this.now();
      pending = this.fetchToken(scope).then((t) => ({ ...t, issuedAt }));
      this.cache.set(scope, pending);
      pending.catch(() => {
        if (this.cache.get(scope) === pending) this.cache.delete(scope);
      });
    }
    const t = await pending;
    return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
  }

  private renewAt(t: AccessToken & { issuedAt?: number }): number {
    const life = t.expiresOnTimestamp - (t.issuedAt ?? t.expiresOnTimestamp);
    return t.expiresOnTimestamp - Math.min(this.marginMs, life / 2);
  }

  protected abstract fetchToken(scope: string): Promise<AccessToken>;

  protected error(problem: CredentialProblem, why: string, cause?: unknown): CredentialError {
    return new CredentialError(redact(`${this.source}: ${why}`), { problem, reference: this.source, ...(cause !== undefined ? { cause } : {}) });
  }

  /** Runs one token request, retrying throttling, 5xx and resets; returns the parsed token or throws a CredentialError. */
  protected async request(req: TokenRequest, options: { imds?: boolean } = {}): Promise<AccessToken> {
    const where = `${req.url.origin}${req.url.pathname}`;
    const attempts = 4;
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let text: string;
      try {
        const res = await fetch(req.url, {
          method: req.method, headers: req.headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          ...(req.form ? { body: req.form.toString() } : {}),
        });
        status = res.status;
        text = (await res.text()).slice(0, MAX_BODY_CHARS);
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const detail = e.name === 'TimeoutError' ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s` : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`;
        if (attempt < attempts && e.cause?.code === 'ECONNRESET') {
          await this.sleep(500 * 2 ** (attempt - 1));
          continue;
        }
        throw this.error('unavailable', `could not reach ${where} (${detail})${options.imds ? '; outside Azure, configure a service principal or workload identity instead' : ''}`, err);
      }
      if (status === 200) return this.parse(text, where);
      if (retryable(status, options.imds ?? false) && attempt < attempts) {
        await this.sleep(500 * 2 ** (attempt - 1));
        continue;
      }
      throw this.error(status === 400 || status === 401 || status === 403 ? 'access-denied' : 'unavailable', `${where} answered HTTP ${status}${describeAadError(text)}`);
    }
  }

  private parse(text: string, where: string): AccessToken {
    let json: { access_token?: unknown; expires_in?: unknown; expires_on?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (err) {
      throw this.error('unavailable', `${where} answered with something that is not JSON`, err);
    }
    const token = json.access_token;
    if (typeof token !== 'string' || token === '') throw this.error('unavailable', `${where} answered without an access_token`);
    registerSecret(token);
    // AAD v2 sends expires_in as a number, IMDS as a string; App Service sends only expires_on (epoch seconds).
    const expiresIn = Number(json.expires_in);
    const expiresOn = Number(json.expires_on);
    const expiresOnTimestamp = Number.isFinite(expiresIn) && expiresIn > 0
      ? this.now() + expiresIn * 1000
      : Number.isFinite(expiresOn) && expiresOn > 0 ? expiresOn * 1000 : this.now() + 5 * 60 * 1000;
    return { token, expiresOnTimestamp };
  }

  protected authority(tenantId: string): URL {
    const host = (this.env.AZURE_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    return new URL(`${host}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`);
  }
}

/** `: AADSTS7000215: Invalid client secret provided…` from an AAD error body, or an empty string. */
function describeAadError(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    const description = typeof j.error_description === 'string' ? j.error_description.split(/\r?\n/)[0] : undefined;
    const parts = [typeof j.error === 'string' ? j.error : undefined, description].filter((p): p is string => p !== undefined && p !== '');
    return parts.length > 0 ? `: ${parts.join(': ')}` : '';
  } catch {
    return '';
  }
}

/**
 * A service principal with a client secret: the OAuth2 client-credentials grant at
 * `<authority>/<tenant>/oauth2/v2.0/token`.
 *
 * @example
 * const aad = new ClientSecretCredential('contoso.onmicrosoft.com', appId, secret);
 * const { token } = await aad.getToken('https://containerregistry.azure.net/.default');
 */
export class ClientSecretCredential extends CachingCredential {
  readonly source: string;

  constructor(
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    options: AadCredentialOptions = {},
  ) {
    super(options);
    registerSecret(clientSecret);
    this.source = `service principal ${clientId} of tenant ${tenantId}`;
  }

  protected fetchToken(scope: string): Promise<AccessToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret, scope });
    return this.request({ url: this.authority(this.tenantId), method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, form });
  }
}

/**
 * Workload identity federation (AKS workload identity, or any OIDC issuer AAD trusts): the token in
 * `tokenFile` is the client assertion. The file is read for every request, since it is rotated.
 */
export class WorkloadIdentityCredential extends CachingCredential {
  readonly source: string;

  constructor(
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly tokenFile: string,
    options: AadCredentialOptions = {},
  ) {
    super(options);
    this.source = `workload identity ${clientId} of tenant ${tenantId} (token file ${tokenFile})`;
  }

  protected async fetchToken(scope: string): Promise<AccessToken> {
    let assertion: string;
    try {
      assertion = (await readFile(this.tokenFile, 'utf8')).trim();
    } catch (err) {
      throw this.error('not-found', `could not read the federated token file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
    }
    if (assertion === '') throw this.error('bad-format', 'the federated token file is empty');
    registerSecret(assertion);
    const form = new URLSearchParams({
      grant_type: 'client_credentials', client_id: this.clientId, scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    return this.request({ url: this.authority(this.tenantId), method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, form });
  }
}

/**
 * The managed identity of the Azure resource the code runs on: App Service / Functions when
 * IDENTITY_ENDPOINT and IDENTITY_HEADER are set, IMDS otherwise. `clientId` picks a user-assigned identity.
 */
export class ManagedIdentityCredential extends CachingCredential {
  readonly source: string;

  constructor(
    private readonly clientId?: string,
    options: AadCredentialOptions = {},
  ) {
    super(options);
    const which = clientId ? `user-assigned managed identity ${clientId}` : 'system-assigned managed identity';
    this.source = `${which} (${this.appService() ? `App Service endpoint ${this.env.IDENTITY_ENDPOINT}` : `IMDS ${this.imdsHost()}`})`;
  }

  private appService(): boolean {
    return Boolean(this.env.IDENTITY_ENDPOINT && this.env.IDENTITY_HEADER);
  }

  private imdsHost(): string {
    const h = this.env.AZURE_POD_IDENTITY_AUTHORITY_HOST || DEFAULT_IMDS_HOST;
    return (/^https?:\/\//.test(h) ? h : `http://${h}`).replace(/\/+$/, '');
  }

  protected fetchToken(scope: string): Promise<AccessToken> {
    // Managed identity endpoints take a resource, not a scope.
    const resource = scope.replace(/\/\.default$/, '');
    if (this.appService()) {
      const url = new URL(this.env.IDENTITY_ENDPOINT as string);
      url.searchParams.set('api-version', '2019-08-01');
      url.searchParams.set('resource', resource);
      if (this.clientId) url.searchParams.set('client_id', this.clientId);
      registerSecret(this.env.IDENTITY_HEADER);
      return this.request({ url, method: 'GET', headers: { 'x-identity-header': this.env.IDENTITY_HEADER as string } });
    }
    const url = new URL(`${this.imdsHost()}/metadata/identity/oauth2/token`);
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', resource);
    if (this.clientId) url.searchParams.set('client_id', this.clientId);
    return this.request({ url, method: 'GET', headers: { metadata: 'true' } }, { imds: true });
  }
}

