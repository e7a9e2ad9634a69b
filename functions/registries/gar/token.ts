// Google access tokens for Artifact Registry / GCR: from a service-account key or Application Default
// Credentials (workload identity), cached and refreshed before they expire.
// Type-only: the library is loaded on the first token request (loadGoogleAuth), so a Lambda whose config
// names no GAR/GCR registry is bundled without it (lib/bundle-externals.ts).
import type * as GoogleAuthLibrary from 'google-auth-library';
import type { AuthClient, gaxios } from 'google-auth-library';
import { registerSecret } from '../../oci/redact.ts';
import { OciError } from '../../oci/errors.ts';
import { CredentialError } from '../errors.ts';

/** The Google packages only this file loads; the CDK stack marks them external when no GAR/GCR registry is configured. */
export const GOOGLE_SDK_MODULES = ['google-auth-library'] as const;

/** google-auth-library, on first use (it and its HTTP stack are about 250 KB of a bundle). */
function loadGoogleAuth(): Promise<typeof GoogleAuthLibrary> {
  return import('google-auth-library');
}

/** The scope Artifact Registry and GCR accept for pulls and pushes. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * A token is refreshed this long before its expiry, so that it cannot run out between our check and
 * the registry's (Google's own client libraries use 5 minutes too).
 */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** A value that expires (`expiresAt` in epoch ms). */
export interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/**
 * Caches one expiring value and fetches a new one `marginMs` before it expires. Concurrent callers
 * share one fetch; a failed fetch is not cached.
 *
 * @example
 * const token = new ExpiringValue(() => fetchToken(), { marginMs: 60_000 });
 * const t = await token.get();
 */
export class ExpiringValue<T> {
  private current: Expiring<T> | undefined;
  private pending: Promise<Expiring<T>> | undefined;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchValue: () => Promise<Expiring<T>>,
    options: { marginMs?: number; now?: () => number } = {},
  ) {
    this.marginMs = options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<T> {
    if (this.current !== undefined && this.now() < this.current.expiresAt - this.marginMs) return this.current.value;
    this.pending ??= this.fetchValue().finally(() => {
      this.pending = undefined;
    });
    const fresh = await this.pending;
    this.current = fresh;
    return fresh.value;
  }

  /** Forgets the cached value (after the registry refused it). */
  invalidate(): void {
    this.current = undefined;
  }
}

/** Where a Google access token comes from. */
export type GoogleTokenSpec =
  /** A service-account key file's JSON (from Secrets Manager or a file). */
  | { readonly keyJson: string; readonly reference: string }
  /** A path to a service-account key file (local use). */
  | { readonly keyFile: string; readonly reference: string }
  /** Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server (workload identity). */
  | { readonly adc: true; readonly reference: string };

export interface GoogleTokenOptions {
  /**
   * The HTTP client google-auth-library sends token requests with. Tests pass a gaxios instance whose
   * interceptor points `https://oauth2.googleapis.com/token` at a local endpoint: the library ignores
   * a key file's `token_uri`.
   */
  readonly transporter?: gaxios.Gaxios;
  readonly marginMs?: number;
  readonly now?: () => number;
  readonly registryName?: string;
}

interface ServiceAccountKey {
  readonly type?: string;
  readonly client_email?: string;
  readonly private_key?: string;
}

/** Parses a service-account key; the error never quotes the content. */
export function parseServiceAccountKey(json: string, reference: string, registryName?: string): { email: string; privateKey: string } {
  let key: ServiceAccountKey;
  try {
    key = JSON.parse(json) as ServiceAccountKey;
  } catch {
    throw new CredentialError(`${reference} is not a Google service-account key: it is not JSON`, {
      problem: 'bad-format', reference, ...(registryName ? { registryName } : {}),
    });
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new CredentialError(
      `${reference} is not a Google service-account key: it lacks "client_email" or "private_key" (create one with gcloud iam service-accounts keys create)`,
      { problem: 'bad-format', reference, ...(registryName ? { registryName } : {}) },
    );
  }
  registerSecret(key.private_key);
  return { email: key.client_email, privateKey: key.private_key };
}

/**
 * Google access tokens for one credential, cached until `marginMs` before expiry. Every token is
 * registered with the redactor before it is handed out.
 */
export class GoogleAccessTokens {
  private readonly cache: ExpiringValue<string>;
  private client: Promise<AuthClient> | undefined;

  constructor(
    private readonly spec: GoogleTokenSpec,
    private readonly options: GoogleTokenOptions = {},
  ) {
    this.cache = new ExpiringValue(() => this.fetch(), {
      ...(options.marginMs !== undefined ? { marginMs: options.marginMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** A valid access token. */
  token(): Promise<string> {
    return this.cache.get();
  }

  invalidate(): void {
    this.cache.invalidate();
  }

  private authClient(): Promise<AuthClient> {
    const margin = this.options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    const transport = this.options.transporter ? { transporter: this.options.transporter } : {};
    const spec = this.spec;
    this.client ??= (async (): Promise<AuthClient> => {
      const { GoogleAuth, JWT } = await loadGoogleAuth();
      if ('keyJson' in spec) {
        const key = parseServiceAccountKey(spec.keyJson, spec.reference, this.options.registryName);
        return new JWT({ email: key.email, key: key.privateKey, scopes: [CLOUD_PLATFORM_SCOPE], eagerRefreshThresholdMillis: margin, ...transport });
      }
      const auth = new GoogleAuth({
        scopes: [CLOUD_PLATFORM_SCOPE],
        clientOptions: { eagerRefreshThresholdMillis: margin, ...transport },
        ...('keyFile' in spec ? { keyFilename: spec.keyFile } : {}),
      });
      return auth.getClient();
    })();
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  private async fetch(): Promise<Expiring<string>> {
    const now = (this.options.now ?? Date.now)();
    let token: string | null | undefined;
    let expiry: number | null | undefined;
    try {
      const client = await this.authClient();
      token = (await client.getAccessToken()).token;
      expiry = client.credentials.expiry_date;
    } catch (err) {
      if (err instanceof OciError) throw err;
      // The library's error carries the request (with the signed assertion): keep only its message.
      throw new CredentialError(
        `could not get a Google access token from ${this.spec.reference}: ${(err as Error).message ?? String(err)}`,
        { problem: 'unavailable', reference: this.spec.reference, ...(this.options.registryName ? { registryName: this.options.registryName } : {}) },
      );
    }
    if (!token) {
      throw new CredentialError(`${this.spec.reference} gave no Google access token`, { problem: 'unavailable', reference: this.spec.reference });
    }
    registerSecret(token);
    // Google tokens live an hour; when the library does not say, assume the short end of that.
    return { value: token, expiresAt: typeof expiry === 'number' ? expiry : now + 10 * 60 * 1000 };
  }
}
