// ACR's token exchange: an AAD access token becomes an ACR refresh token (POST /oauth2/exchange), which
// the OCI client trades for access tokens at /oauth2/token (grant_type=refresh_token) as an identity token.
// https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
import http from 'node:http';
import https from 'node:https';
import type { TokenCredential } from './aad.ts';
import { OciError } from '../../oci/errors.ts';
import { protect, type CredentialProvider, type Credentials } from '../../oci/credentials.ts';
import { redact, registerSecret } from '../../oci/redact.ts';
import { CredentialError } from '../errors.ts';
import { DEFAULT_REFRESH_MARGIN_MS, ExpiringValue, type Expiring } from '../gar/token.ts';
import { jwtExpiry } from '../jwt.ts';

export { jwtExpiry };

/** The AAD audience of ACR's data plane (the one @azure/container-registry used by default). */
export const ACR_DEFAULT_AUDIENCE = 'https://containerregistry.azure.net';
/** The username ACR expects next to a refresh token (`az acr login --expose-token` prints it too). */
export const ACR_REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

export interface AcrEndpoint {
  /** Wire `host[:port]` of the registry. */
  readonly host: string;
  /** ACR's `service`: the login server (`<name>.azurecr.io`). */
  readonly service: string;
  readonly plainHttp?: boolean;
  /** Accept any TLS certificate (tests). */
  readonly insecure?: boolean;
}

/** POSTs a form and returns status and body text (node:https, with the same TLS choices as the OCI client). */
export function postForm(endpoint: AcrEndpoint, path: string, form: URLSearchParams): Promise<{ status: number; body: string }> {
  const body = form.toString();
  const url = new URL(`${endpoint.plainHttp ? 'http' : 'https'}://${endpoint.host}${path}`);
  const lib = endpoint.plainHttp ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
        ...(endpoint.plainHttp ? {} : { rejectUnauthorized: !endpoint.insecure }),
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 1_000_000) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url.origin}${path} timed out`)));
    req.on('error', (err) => reject(new OciError(`POST ${url.origin}${path} failed: ${redact(err.message)}`, { code: 'NETWORK', retryable: true, registry: endpoint.host })));
    req.end(body);
  });
}


/**
 * Trades an AAD access token for an ACR refresh token: `POST /oauth2/exchange` with
 * `grant_type=access_token&service=<login server>&access_token=<AAD token>[&tenant=<id>]`.
 */
export async function exchangeAadToken(endpoint: AcrEndpoint, aadToken: string, tenant?: string): Promise<Expiring<string>> {
  const form = new URLSearchParams({ grant_type: 'access_token', service: endpoint.service, access_token: aadToken, ...(tenant ? { tenant } : {}) });
  const res = await postForm(endpoint, '/oauth2/exchange', form);
  if (res.status === 401 || res.status === 403) {
    throw new OciError(
      `ACR ${endpoint.service} refused the AAD token at /oauth2/exchange (HTTP ${res.status}); ` +
        'check that the identity has AcrPull (and AcrPush/AcrDelete to write) on the registry',
      { code: 'UNAUTHORIZED', status: res.status, registry: endpoint.host },
    );
  }
  if (res.status !== 200) {
    throw new OciError(`ACR ${endpoint.service} answered HTTP ${res.status} at /oauth2/exchange; retry later`, {
      code: res.status >= 500 ? 'UNAVAILABLE' : 'PROTOCOL', retryable: res.status >= 500 || res.status === 429, status: res.status, registry: endpoint.host,
    });
  }
  let refreshToken: unknown;
  try {
    refreshToken = (JSON.parse(res.body) as { refresh_token?: unknown }).refresh_token;
  } catch (err) {
    throw new OciError(`ACR ${endpoint.service} answered /oauth2/exchange with something that is not JSON`, { code: 'PROTOCOL', cause: err, registry: endpoint.host });
  }
  if (typeof refreshToken !== 'string' || refreshToken === '') {
    throw new OciError(`ACR ${endpoint.service} answered /oauth2/exchange without a refresh_token`, { code: 'PROTOCOL', registry: endpoint.host });
  }
  registerSecret(refreshToken);
  // ACR refresh tokens live 3 hours; when the token does not say, assume one.
  return { value: refreshToken, expiresAt: jwtExpiry(refreshToken) ?? Date.now() + 60 * 60 * 1000 };
}

export interface AcrAadCredentialOptions {
  /** AAD audience; the scope asked for is `<audience>/.default`. @default ACR_DEFAULT_AUDIENCE */
  readonly audience?: string;
  readonly tenant?: string;
  /** Exchange again this long before the refresh token expires. @default 5 minutes */
  readonly marginMs?: number;
  readonly now?: () => number;
  /** For messages: where the AAD identity comes from (`service principal from secret …`). */
  readonly reference: string;
  readonly registryName?: string;
}

/**
 * The OCI client's credentials for ACR with an AAD identity (service principal, managed identity):
 * an ACR refresh token, handed over as an identity token, so the client's Authenticator POSTs it to
 * the challenge's realm (`/oauth2/token`, grant_type=refresh_token) for each scope.
 */
export class AcrAadCredentialProvider implements CredentialProvider {
  private readonly refresh: ExpiringValue<string>;

  constructor(
    private readonly endpoint: AcrEndpoint,
    readonly aad: TokenCredential,
    private readonly options: AcrAadCredentialOptions,
  ) {
    this.refresh = new ExpiringValue(() => this.exchange(), {
      marginMs: options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  async credentialsFor(_host: string): Promise<Credentials | undefined> {
    return protect({ identityToken: await this.refresh.get(), username: ACR_REFRESH_TOKEN_USERNAME });
  }

  /** Forgets the refresh token (after the registry refused it). */
  invalidate(): void {
    this.refresh.invalidate();
  }

  private async exchange(): Promise<Expiring<string>> {
    const scope = `${this.options.audience ?? ACR_DEFAULT_AUDIENCE}/.default`;
    let aadToken: string;
    try {
      const t = await this.aad.getToken(scope);
      if (!t?.token) throw new Error('the credential returned no token');
      aadToken = t.token;
    } catch (err) {
      // A refused secret (HTTP 401 from AAD) is not retryable; an unreachable endpoint is.
      const problem = err instanceof CredentialError ? err.problem : 'unavailable';
      throw new CredentialError(`could not get an AAD token for ${scope} from ${this.options.reference}: ${redact((err as Error)?.message ?? String(err))}`, {
        problem, reference: this.options.reference, cause: err, ...(this.options.registryName ? { registryName: this.options.registryName } : {}),
      });
    }
    registerSecret(aadToken);
    return exchangeAadToken(this.endpoint, aadToken, this.options.tenant);
  }
}
