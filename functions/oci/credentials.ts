// Where credentials come from: a provider interface (registry adapters plug in) and the stock providers.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciError } from './errors.ts';
import { registerSecret } from './redact.ts';

/** Username and password (Basic, or exchanged for a Bearer token). */
export interface PasswordCredentials {
  readonly username: string;
  readonly password: string;
}

/** An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token endpoint. */
export interface IdentityTokenCredentials {
  readonly identityToken: string;
  /** Some token servers want the account name next to the refresh token. */
  readonly username?: string;
}

export type Credentials = PasswordCredentials | IdentityTokenCredentials;

/** Gives credentials for a registry host (`host[:port]`), or undefined to go anonymous. */
export interface CredentialProvider {
  credentialsFor(host: string): Promise<Credentials | undefined>;
}

export function isPasswordCredentials(c: Credentials): c is PasswordCredentials {
  return 'password' in c;
}

/** Adds the secret parts to the redaction registry so that no message can carry them. */
export function protect<T extends Credentials | undefined>(c: T): T {
  if (c === undefined) return c;
  if (isPasswordCredentials(c)) {
    registerSecret(c.password);
    registerSecret(Buffer.from(`${c.username}:${c.password}`).toString('base64'));
  } else {
    registerSecret(c.identityToken);
  }
  return c;
}

/** The same credentials for every host, or per host when given a map. */
export class StaticCredentialProvider implements CredentialProvider {
  private readonly byHost: ReadonlyMap<string, Credentials> | undefined;
  private readonly all: Credentials | undefined;

  constructor(credentials: Credentials | Readonly<Record<string, Credentials>>) {
    if ('password' in credentials || 'identityToken' in credentials) {
      this.all = protect(credentials as Credentials);
    } else {
      const entries = Object.entries(credentials as Record<string, Credentials>);
      entries.forEach(([, c]) => protect(c));
      this.byHost = new Map(entries.map(([h, c]) => [normaliseHost(h), c]));
    }
  }

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    return this.all ?? this.byHost?.get(normaliseHost(host));
  }
}

/** `REGMAN_USERNAME` / `REGMAN_PASSWORD` (read when asked, so tests and the CLI can set them late). */
export class EnvCredentialProvider implements CredentialProvider {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async credentialsFor(_host: string): Promise<Credentials | undefined> {
    const username = this.env.REGMAN_USERNAME;
    const password = this.env.REGMAN_PASSWORD;
    if (!username || password === undefined) return undefined;
    return protect({ username, password });
  }
}

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/**
 * `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`, or an explicit path): the `auths` map,
 * with either a base64 `auth` of `user:pass`, or `username`/`password`, or an `identitytoken`.
 * Credential helpers (`credsStore`, `credHelpers`) are not run: they would execute programs.
 */
export class DockerConfigCredentialProvider implements CredentialProvider {
  private readonly path: string;
  private loaded: Promise<Record<string, DockerConfigEntry>> | undefined;

  constructor(options: { path?: string; env?: NodeJS.ProcessEnv } = {}) {
    const env = options.env ?? process.env;
    this.path = options.path ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  }

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    const auths = await (this.loaded ??= this.load());
    const wanted = normaliseHost(host);
    const entry = Object.entries(auths).find(([key]) => normaliseHost(key) === wanted)?.[1];
    if (entry === undefined) return undefined;
    if (entry.identitytoken) return protect({ identityToken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) });
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new OciError(`${this.path}: the "auth" entry for ${host} is not base64 of "user:password"`, { code: 'UNAUTHORIZED' });
      }
      return protect({ username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
    }
    if (entry.username && entry.password !== undefined) return protect({ username: entry.username, password: entry.password });
    return undefined;
  }

  private async load(): Promise<Record<string, DockerConfigEntry>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as { auths?: Record<string, DockerConfigEntry> };
      return parsed.auths ?? {};
    } catch (err) {
      throw new OciError(`${this.path} is not valid JSON; fix or remove it`, { code: 'UNAUTHORIZED', cause: err });
    }
  }
}

/** Tries each provider in turn; the first that answers wins (go-containerregistry's multi-keychain). */
export class ChainCredentialProvider implements CredentialProvider {
  private readonly providers: readonly CredentialProvider[];

  constructor(...providers: CredentialProvider[]) {
    this.providers = providers;
  }

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    for (const p of this.providers) {
      const c = await p.credentialsFor(host);
      if (c !== undefined) return c;
    }
    return undefined;
  }
}

/** The usual order for a CLI: environment, then the docker config file. */
export function defaultCredentialProvider(): CredentialProvider {
  return new ChainCredentialProvider(new EnvCredentialProvider(), new DockerConfigCredentialProvider());
}

/**
 * Docker config keys may be URLs (`https://index.docker.io/v1/`) or bare hosts; every Docker Hub
 * alias is one registry.
 */
export function normaliseHost(key: string): string {
  let host = key.trim().toLowerCase().replace(/^[a-z]+:\/\//, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  if (['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host)) host = 'docker.io';
  return host;
}
