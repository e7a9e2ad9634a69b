// Where credentials come from: a provider interface (registry adapters plug in) and the stock providers.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { credentialsFromHelper } from './credential-helper.ts';
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

/** The parts of a docker config / containers auth.json that hold credentials. */
interface DockerConfigFile {
  auths?: Record<string, DockerConfigEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/**
 * `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`, or an explicit path, such as a podman /
 * skopeo `containers/auth.json`, which has the same shape). For a host, in docker's order:
 * 1. `credHelpers[host]`: runs `docker-credential-<name> get` (credential-helper.ts); its answer is
 *    final for this file, as in docker;
 * 2. `credsStore`: the same with the one store helper; when it has nothing, an inline `auths` entry;
 * 3. the `auths` entry: a base64 `auth` of `user:pass`, or `username`/`password`, or an `identitytoken`.
 * Each host's answer is asked once per provider (a helper may call a cloud API).
 */
export class DockerConfigCredentialProvider implements CredentialProvider {
  private readonly path: string;
  private readonly env: NodeJS.ProcessEnv;
  private loaded: Promise<DockerConfigFile> | undefined;
  private readonly answers = new Map<string, Promise<Credentials | undefined>>();

  constructor(options: { path?: string; env?: NodeJS.ProcessEnv } = {}) {
    const env = options.env ?? process.env;
    this.env = env;
    this.path = options.path ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  }

  credentialsFor(host: string): Promise<Credentials | undefined> {
    const wanted = normaliseHost(host);
    let answer = this.answers.get(wanted);
    if (answer === undefined) {
      answer = this.lookup(wanted);
      this.answers.set(wanted, answer);
      // A failed helper is asked again next time (it may have been a transient failure).
      answer.catch(() => this.answers.delete(wanted));
    }
    return answer;
  }

  private async lookup(wanted: string): Promise<Credentials | undefined> {
    const file = await (this.loaded ??= this.load());
    const helper = Object.entries(file.credHelpers ?? {}).find(([key]) => normaliseHost(key) === wanted)?.[1];
    if (typeof helper === 'string' && helper !== '') {
      return protect(await credentialsFromHelper(helper, wanted, { env: this.env, configuredIn: `credHelpers in ${this.path}` }));
    }
    if (typeof file.credsStore === 'string' && file.credsStore !== '') {
      const stored = await credentialsFromHelper(file.credsStore, wanted, { env: this.env, configuredIn: `credsStore in ${this.path}` });
      if (stored !== undefined) return protect(stored);
    }
    return this.inline(file.auths ?? {}, wanted);
  }

  private inline(auths: Record<string, DockerConfigEntry>, wanted: string): Credentials | undefined {
    const host = wanted;
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

  private async load(): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    try {
      return JSON.parse(text) as DockerConfigFile;
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
