// The Azure SDKs, loaded on first use: a Lambda whose config names no ACR registry is bundled without them (lib/constructs/base-function.ts).
import type * as ContainerRegistry from '@azure/container-registry';
import type * as Identity from '@azure/identity';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

type IdentityModule = typeof Identity;

/** The Azure packages only this folder loads; the CDK stack marks them external when no ACR registry is configured. */
export const AZURE_SDK_MODULES = ['@azure/identity', '@azure/container-registry'] as const;

/**
 * A TokenCredential whose @azure/identity credential is built on the first token request: building an
 * adapter (every function does, for every configured registry) then loads no Azure code, and only an
 * ACR call does.
 */
export class LazyTokenCredential implements TokenCredential {
  private inner: Promise<TokenCredential> | undefined;

  constructor(private readonly make: (identity: IdentityModule) => TokenCredential) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.inner ??= import('@azure/identity').then(this.make);
    return (await this.inner).getToken(scopes, options);
  }
}

export function clientSecretCredential(tenantId: string, clientId: string, clientSecret: string): TokenCredential {
  return new LazyTokenCredential((m) => new m.ClientSecretCredential(tenantId, clientId, clientSecret));
}

/** The managed identity; `clientId` picks a user-assigned one. */
export function managedIdentityCredential(clientId?: string): TokenCredential {
  return new LazyTokenCredential((m) => (clientId ? new m.ManagedIdentityCredential(clientId) : new m.ManagedIdentityCredential()));
}

/** @azure/container-registry, for ACR's listing and deletion API. */
export function loadContainerRegistry(): Promise<typeof ContainerRegistry> {
  return import('@azure/container-registry');
}
