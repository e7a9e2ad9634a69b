// ECR registry credentials: GetAuthorizationToken's `AWS:<password>`, cached, refreshed before it expires, shared by concurrent callers.
import { protect, normaliseHost, type CredentialProvider, type PasswordCredentials } from '../../oci/credentials.ts';
import { registerSecret } from '../../oci/redact.ts';
import { CredentialError } from '../errors.ts';

/** What GetAuthorizationToken returned: base64 of `AWS:<password>`, and when it stops working. */
export interface EcrAuthorizationData {
  readonly authorizationToken: string;
  readonly expiresAt?: Date;
}

/** A decoded token and its expiry (ms since the epoch). */
export interface EcrToken {
  readonly credentials: PasswordCredentials;
  readonly expiresAt: number;
}

export interface EcrTokenProviderOptions {
  /** Registry name in the config, for messages. */
  readonly registryName: string;
  /** The OCI host these credentials are for; other hosts get none. */
  readonly host: string;
  /** Calls GetAuthorizationToken (with the adapter's retries). */
  readonly fetchAuthorization: () => Promise<EcrAuthorizationData>;
  /** Refresh this long before `expiresAt`. @default 300000 (5 min) */
  readonly refreshBeforeMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A token is valid for 12 hours (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html);
 * assumed when ECR leaves `expiresAt` out.
 */
const DEFAULT_TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;
const DEFAULT_REFRESH_BEFORE_MS = 5 * 60 * 1000;

/**
 * Hands out ECR's registry credentials. The token is cached and fetched again `refreshBeforeMs`
 * before it expires, so that no request leaves with a token about to lapse; concurrent callers share
 * one GetAuthorizationToken call. The password is registered with the redactor before anyone sees it.
 *
 * @example
 * const tokens = new EcrTokenProvider({ registryName: 'ecr-main', host, fetchAuthorization: () => … });
 * const client = new RegistryClient({ host, credentials: tokens });
 */
export class EcrTokenProvider implements CredentialProvider {
  private current: EcrToken | undefined;
  private inflight: Promise<EcrToken> | undefined;
  private readonly host: string;
  private readonly now: () => number;
  private readonly refreshBeforeMs: number;

  constructor(private readonly options: EcrTokenProviderOptions) {
    this.host = normaliseHost(options.host);
    this.now = options.now ?? Date.now;
    this.refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  }

  async credentialsFor(host: string): Promise<PasswordCredentials | undefined> {
    if (normaliseHost(host) !== this.host) return undefined;
    return (await this.token()).credentials;
  }

  /** The cached token while it is fresh; otherwise one shared refresh. */
  token(): Promise<EcrToken> {
    const cached = this.current;
    if (cached !== undefined && this.now() < cached.expiresAt - this.refreshBeforeMs) return Promise.resolve(cached);
    if (this.inflight === undefined) {
      const refresh = this.refresh(cached);
      this.inflight = refresh;
      const clear = (): void => {
        if (this.inflight === refresh) this.inflight = undefined;
      };
      refresh.then(clear, clear);
    }
    return this.inflight;
  }

  private async refresh(previous: EcrToken | undefined): Promise<EcrToken> {
    let data: EcrAuthorizationData;
    try {
      data = await this.options.fetchAuthorization();
    } catch (err) {
      // An early refresh that fails is not fatal while the old token still works.
      if (previous !== undefined && this.now() < previous.expiresAt) return previous;
      throw err;
    }
    const token = decodeAuthorization(data, this.options.registryName, this.now());
    this.current = token;
    return token;
  }
}

/** Decodes base64 `AWS:<password>`, registering the secret parts with the redactor first. */
export function decodeAuthorization(data: EcrAuthorizationData, registryName: string, now: number): EcrToken {
  // Register the raw token before anything can fail, so that not even a decoding error can carry it.
  registerSecret(data.authorizationToken);
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new CredentialError(
      `ECR registry "${registryName}": GetAuthorizationToken returned a token that is not base64 of "<user>:<password>"`,
      { problem: 'bad-format', reference: 'GetAuthorizationToken', registryName },
    );
  }
  const credentials = protect({ username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
  const expiresAt = data.expiresAt?.getTime() ?? now + DEFAULT_TOKEN_LIFETIME_MS;
  return { credentials, expiresAt };
}
