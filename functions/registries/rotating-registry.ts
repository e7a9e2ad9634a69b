// A Registry whose OCI client is rebuilt when its short-lived credentials change (ECR and GAR tokens,
// ACR refresh tokens), so that a refreshed credential is used before the old one is refused.
import type { Readable } from 'node:stream';
import { RegistryClient, type RegistryClientOptions } from '../oci/client.ts';
import { StaticCredentialProvider, isPasswordCredentials, type CredentialProvider, type Credentials } from '../oci/credentials.ts';
import type { BlobGetOptions, BlobOpener, BlobPutOptions, BlobReader, Registry } from '../oci/registry.ts';
import type { Descriptor, Manifest } from '../oci/types.ts';

function fingerprint(c: Credentials | undefined): string {
  if (c === undefined) return '';
  return isPasswordCredentials(c) ? `p:${c.username}:${c.password}` : `i:${c.username ?? ''}:${c.identityToken}`;
}

/**
 * Delegates every call to a RegistryClient holding the provider's current credentials. The provider
 * caches and refreshes them; when it hands out new ones, a new client takes over (its token cache
 * starts empty) and the previous one is closed at the next rotation, once its requests are long done.
 *
 * Why not one client: `Authenticator` (functions/oci/auth.ts) keeps the credentials it read until the
 * registry answers 401; with tokens that the provider refreshes ahead of expiry, switching clients
 * at once saves that refused round trip (and a token request made with a stale secret).
 */
export class RotatingRegistry implements Registry {
  readonly host: string;
  private current: { key: string; client: RegistryClient } | undefined;
  private retired: RegistryClient | undefined;
  private building: Promise<RegistryClient> | undefined;

  constructor(
    private readonly options: Omit<RegistryClientOptions, 'credentials'>,
    private readonly credentials: CredentialProvider,
  ) {
    this.host = options.host;
  }

  /** The client for the credentials valid now. */
  client(): Promise<RegistryClient> {
    this.building ??= this.rotate().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async rotate(): Promise<RegistryClient> {
    const creds = await this.credentials.credentialsFor(this.host);
    const key = fingerprint(creds);
    if (this.current?.key === key) return this.current.client;
    const client = new RegistryClient({
      ...this.options,
      ...(creds !== undefined ? { credentials: new StaticCredentialProvider(creds) } : {}),
    });
    if (this.current !== undefined) {
      this.retired?.close();
      this.retired = this.current.client;
    }
    this.current = { key, client };
    return client;
  }

  close(): void {
    this.retired?.close();
    this.current?.client.close();
    this.retired = undefined;
    this.current = undefined;
  }

  async manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    return (await this.client()).manifestHead(repository, reference);
  }
  async manifestGet(repository: string, reference: string): Promise<Manifest> {
    return (await this.client()).manifestGet(repository, reference);
  }
  async manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    return (await this.client()).manifestPut(repository, reference, manifest);
  }
  async manifestDelete(repository: string, digest: string): Promise<void> {
    return (await this.client()).manifestDelete(repository, digest);
  }
  async blobHead(repository: string, digest: string): Promise<number | undefined> {
    return (await this.client()).blobHead(repository, digest);
  }
  async blobGet(repository: string, digest: string, options?: BlobGetOptions): Promise<BlobReader> {
    return (await this.client()).blobGet(repository, digest, options);
  }
  async blobPut(repository: string, blob: { digest: string; size: number }, body: Readable | BlobOpener, options?: BlobPutOptions): Promise<void> {
    return (await this.client()).blobPut(repository, blob, body, options);
  }
  async blobMount(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    return (await this.client()).blobMount(repository, digest, fromRepository);
  }
  async tagList(repository: string): Promise<string[]> {
    return (await this.client()).tagList(repository);
  }
  async catalog(): Promise<string[]> {
    return (await this.client()).catalog();
  }
  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    return (await this.client()).referrers(repository, digest);
  }
  async ping(): Promise<void> {
    return (await this.client()).ping();
  }
}
