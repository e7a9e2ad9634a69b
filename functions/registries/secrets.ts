// Credentials from their config references: Secrets Manager (TTL-cached), env vars, docker config, anonymous.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChainCredentialProvider, DockerConfigCredentialProvider, normaliseHost, protect, type CredentialProvider, type Credentials } from '../oci/credentials.ts';
import { credentialFiles } from '../oci/credential-files.ts';
import { registerSecret } from '../oci/redact.ts';
import type { CredentialReference } from '../config/types.ts';
import { CredentialError } from './errors.ts';

/** A Secrets Manager secret, by ARN or by name (exactly one is set). */
export interface SecretReference {
  readonly secretArn?: string;
  readonly secretName?: string;
}

/**
 * Reads a secret's text. Implementations register the value with the redactor (`registerSecret`)
 * before returning it, so that no later message can carry it.
 */
export interface SecretResolver {
  getSecret(ref: SecretReference): Promise<string>;
}

export interface SecretsManagerResolverOptions {
  /** @default `new SecretsManagerClient({ region })`, created on first use */
  readonly client?: SecretsManagerClient;
  /** Region of the default client; a secret ARN's own region wins. @default the SDK's (AWS_REGION) */
  readonly region?: string;
  /** How long a value read stays cached. @default 300000 (5 minutes) */
  readonly ttlMs?: number;
  /** Clock, injected in tests. @default Date.now */
  readonly now?: () => number;
}

interface CacheEntry {
  readonly value: Promise<string>;
  /** Set once the read resolved; until then the entry is an in-flight call that callers share. */
  expiresAt?: number;
}

/** AWS error names and what each means for the user. */
const AWS_PROBLEMS: Readonly<Record<string, { problem: 'not-found' | 'access-denied' | 'unavailable'; check: string }>> = {
  ResourceNotFoundException: { problem: 'not-found', check: 'check the secret ARN or name and its region' },
  InvalidRequestException: { problem: 'not-found', check: 'the secret may be scheduled for deletion; restore it or point the config at another' },
  InvalidParameterException: { problem: 'not-found', check: 'check the secret ARN or name' },
  AccessDeniedException: { problem: 'access-denied', check: 'allow secretsmanager:GetSecretValue on it to the caller\'s IAM role' },
  DecryptionFailure: { problem: 'access-denied', check: 'allow kms:Decrypt on the secret\'s KMS key to the caller\'s IAM role' },
  InternalServiceError: { problem: 'unavailable', check: 'Secrets Manager failed; retry later' },
  ThrottlingException: { problem: 'unavailable', check: 'Secrets Manager throttled the call; retry later' },
  CredentialsProviderError: { problem: 'access-denied', check: 'no AWS credentials were found: set AWS_PROFILE or AWS credentials, or run with an IAM role' },
};

/** How a secret reference reads in a message: `secretArn arn:aws:…` or `secretName team/harbor`. */
export function describeSecretReference(ref: SecretReference): string {
  if (ref.secretArn !== undefined) return `Secrets Manager secret ${ref.secretArn}`;
  if (ref.secretName !== undefined) return `Secrets Manager secret "${ref.secretName}"`;
  return 'a Secrets Manager reference with neither secretArn nor secretName';
}

/** `arn:aws:secretsmanager:<region>:…` → region. */
function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}

/**
 * Secrets Manager `GetSecretValue`, cached for `ttlMs` per secret. Concurrent requests for one secret
 * share one call; a failed read is not cached. The value is registered with the redactor the moment
 * it is read.
 *
 * @example
 * const secrets = new SecretsManagerResolver({ region: 'eu-west-1' });
 * const text = await secrets.getSecret({ secretName: 'regman/harbor' });
 */
export class SecretsManagerResolver implements SecretResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly clients = new Map<string, SecretsManagerClient>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SecretsManagerResolverOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  getSecret(ref: SecretReference): Promise<string> {
    const id = ref.secretArn ?? ref.secretName;
    if (id === undefined) {
      return Promise.reject(new CredentialError(`${describeSecretReference(ref)}: set one of them`, { problem: 'not-found', reference: '(none)' }));
    }
    const cached = this.cache.get(id);
    if (cached !== undefined && (cached.expiresAt === undefined || cached.expiresAt > this.now())) return cached.value;

    const entry: CacheEntry = { value: this.read(ref, id) };
    this.cache.set(id, entry);
    entry.value.then(
      () => {
        entry.expiresAt = this.now() + this.ttlMs;
      },
      () => {
        if (this.cache.get(id) === entry) this.cache.delete(id);
      },
    );
    return entry.value;
  }

  /** Forgets every cached value (e.g. after a rotation). */
  clear(): void {
    this.cache.clear();
  }

  private client(region: string | undefined): SecretsManagerClient {
    if (this.options.client !== undefined) return this.options.client;
    const key = region ?? '';
    let c = this.clients.get(key);
    if (c === undefined) {
      c = new SecretsManagerClient(region !== undefined ? { region } : {});
      this.clients.set(key, c);
    }
    return c;
  }

  private async read(ref: SecretReference, id: string): Promise<string> {
    const described = describeSecretReference(ref);
    let out;
    try {
      out = await this.client(regionOfArn(ref.secretArn) ?? this.options.region).send(new GetSecretValueCommand({ SecretId: id }));
    } catch (err) {
      const name = (err as Error)?.name ?? 'Error';
      const known = AWS_PROBLEMS[name] ?? { problem: 'unavailable' as const, check: 'check network access to Secrets Manager and retry' };
      throw new CredentialError(`cannot read ${described}: ${name}: ${(err as Error)?.message ?? String(err)}; ${known.check}`, {
        problem: known.problem, reference: id, cause: err,
      });
    }
    const text = out.SecretString ?? (out.SecretBinary !== undefined ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    registerSecret(text);
    if (text === undefined || text.trim() === '') {
      throw new CredentialError(`${described} is empty; store ${SECRET_FORMATS}`, { problem: 'bad-format', reference: id });
    }
    registerSecret(text.trim());
    return text;
  }
}

/** The accepted secret shapes, for messages. */
export const SECRET_FORMATS =
  'JSON {"username": "…", "password": "…"}, a docker config JSON {"auths": {"<host>": {"auth": "<base64 user:pass>"}}}, or a bare token on one line';

interface DockerAuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

export interface ParseSecretOptions {
  /** Host the credentials are for: picks the entry of a docker config secret. */
  readonly host: string;
  /** Username that goes with a bare token. @default 'token' (most registries ignore it for tokens) */
  readonly tokenUsername?: string;
  /** The reference, for messages (never the value). */
  readonly reference: string;
  readonly registryName?: string;
}

/**
 * Turns a secret's text into credentials. Accepted shapes:
 * 1. `{"username": "robot$ci", "password": "…"}`;
 * 2. a docker config: `{"auths": {"harbor.example.com": {"auth": "<base64 user:pass>"}}}` (or
 *    `username`/`password`, or `identitytoken`); the entry for `host` is used, or the only entry;
 * 3. a bare token (one line, not JSON): sent as the password of `tokenUsername`.
 * Every secret part is registered with the redactor; errors never quote the value.
 */
export function parseSecretCredentials(text: string, options: ParseSecretOptions): Credentials {
  registerSecret(text);
  const trimmed = text.trim();
  const where = `secret ${options.reference}${options.registryName ? ` (credentials of registry "${options.registryName}")` : ''}`;
  const bad = (why: string, cause?: unknown): CredentialError =>
    new CredentialError(`${where} ${why}; store ${SECRET_FORMATS}`, {
      problem: 'bad-format', reference: options.reference, cause,
      ...(options.registryName !== undefined ? { registryName: options.registryName } : {}),
    });

  if (!trimmed.startsWith('{')) {
    if (/\s/.test(trimmed)) throw bad('is neither JSON nor a bare token (it has whitespace inside)');
    registerSecret(trimmed);
    return protect({ username: options.tokenUsername ?? 'token', password: trimmed });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // The parser's message quotes the text around the syntax error: it is not passed on.
    throw bad('starts with "{" but is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('is not a JSON object');
  const obj = parsed as Record<string, unknown>;
  registerSecretValues(obj);

  if ('auths' in obj) return fromDockerConfig(obj.auths, options.host, bad);
  if (typeof obj.username === 'string' && typeof obj.password === 'string' && obj.username !== '' && obj.password !== '') {
    return protect({ username: obj.username, password: obj.password });
  }
  const keys = Object.keys(obj).map((k) => `"${k}"`).join(', ') || 'none';
  throw bad(`is a JSON object without non-empty string "username" and "password" (its keys: ${keys})`);
}

/**
 * Fields of a secret that name an identity rather than hold one. Every other string value is
 * registered with the redactor, unknown fields included, since a secret's extra fields may be keys.
 * A username is not: an ACR admin user is the registry's own name, and redacting it would blank the
 * host out of every message.
 */
const NOT_SECRET_FIELDS = new Set(['username', 'email', 'serveraddress', 'registry', 'tenant', 'tenantId', 'appId', 'clientId']);

function registerSecretValues(obj: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'string' && !NOT_SECRET_FIELDS.has(k)) registerSecret(v);
}

function fromDockerConfig(auths: unknown, host: string, bad: (why: string) => CredentialError): Credentials {
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw bad('has "auths" that is not an object');
  const entries = Object.entries(auths as Record<string, DockerAuthEntry>);
  const wanted = normaliseHost(host);
  const match = entries.find(([key]) => normaliseHost(key) === wanted) ?? (entries.length === 1 ? entries[0] : undefined);
  if (match === undefined) {
    throw bad(`is a docker config with no "auths" entry for ${host} (it has: ${entries.map(([k]) => k).join(', ') || 'none'})`);
  }
  const [key, entry] = match;
  if (typeof entry !== 'object' || entry === null) throw bad(`has an "auths" entry for ${key} that is not an object`);
  registerSecretValues(entry as Record<string, unknown>);
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return protect({ identityToken: entry.identitytoken, ...(typeof entry.username === 'string' ? { username: entry.username } : {}) });
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    registerSecret(decoded);
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw bad(`has an "auth" for ${key} that is not base64 of "user:password"`);
    return protect({ username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return protect({ username: entry.username, password: entry.password });
  throw bad(`has an "auths" entry for ${key} with none of "auth", "username"/"password", "identitytoken"`);
}

/** Gives no credentials: anonymous access (public registries). */
export class AnonymousCredentialProvider implements CredentialProvider {
  async credentialsFor(_host: string): Promise<Credentials | undefined> {
    return undefined;
  }
}

/** Credentials from a Secrets Manager secret, read through a (caching) SecretResolver on each call. */
export class SecretCredentialProvider implements CredentialProvider {
  constructor(
    private readonly secrets: SecretResolver,
    private readonly ref: SecretReference,
    private readonly options: { tokenUsername?: string; registryName?: string } = {},
  ) {}

  async credentialsFor(host: string): Promise<Credentials | undefined> {
    const text = await this.secrets.getSecret(this.ref);
    return parseSecretCredentials(text, {
      host,
      reference: this.ref.secretArn ?? this.ref.secretName ?? '(none)',
      ...(this.options.tokenUsername !== undefined ? { tokenUsername: this.options.tokenUsername } : {}),
      ...(this.options.registryName !== undefined ? { registryName: this.options.registryName } : {}),
    });
  }
}

/**
 * `env: PREFIX`: `<PREFIX>_USERNAME` and `<PREFIX>_PASSWORD`, read at each call (docs/CONFIGURATION.md),
 * so that a CLI or test can set them after the adapter is built.
 */
export class EnvPrefixCredentialProvider implements CredentialProvider {
  constructor(
    private readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly registryName?: string,
  ) {}

  async credentialsFor(_host: string): Promise<Credentials | undefined> {
    const userVar = `${this.prefix}_USERNAME`;
    const passVar = `${this.prefix}_PASSWORD`;
    const username = this.env[userVar];
    const password = this.env[passVar];
    const missing = [username ? undefined : userVar, password ? undefined : passVar].filter((v) => v !== undefined);
    if (missing.length > 0) {
      throw new CredentialError(
        `environment variable${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set` +
          `${this.registryName ? ` (credentials of registry "${this.registryName}": env ${this.prefix})` : ''}; set ${userVar} and ${passVar}`,
        { problem: 'not-found', reference: `env ${this.prefix}`, ...(this.registryName !== undefined ? { registryName: this.registryName } : {}) },
      );
    }
    return protect({ username: username as string, password: password as string });
  }
}

export interface ResolveCredentialsOptions {
  /** Needed for `secretArn` / `secretName`. @default a new SecretsManagerResolver */
  readonly secrets?: SecretResolver;
  /** For `env: PREFIX`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * For `dockerConfig: true`: that one file. @default the files podman, skopeo and docker read, first answer wins
   * ($REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, then
   * $DOCKER_CONFIG/config.json or ~/.docker/config.json: oci/credential-files.ts)
   */
  readonly dockerConfigPath?: string;
  /** Username that goes with a bare-token secret. @default 'token' */
  readonly tokenUsername?: string;
  /** Name of the configured registry, for messages. */
  readonly registryName?: string;
}

/**
 * The CredentialProvider for a config credential reference. Nothing is read until the OCI client
 * asks (`credentialsFor`), so building adapters never touches Secrets Manager or the environment.
 * `iamRole` is ECR's (its adapter turns the role into an authorization token); here it is refused.
 *
 * @example
 * const creds = resolveCredentials({ secretName: 'regman/harbor' }, { secrets });
 * const client = new RegistryClient({ host: 'harbor.example.com', credentials: creds });
 */
export function resolveCredentials(ref: CredentialReference | undefined, options: ResolveCredentialsOptions = {}): CredentialProvider {
  if (ref === undefined) return new AnonymousCredentialProvider();
  const named = options.registryName !== undefined ? { registryName: options.registryName } : {};
  if (ref.secretArn !== undefined || ref.secretName !== undefined) {
    const secretRef: SecretReference = ref.secretArn !== undefined ? { secretArn: ref.secretArn } : { secretName: ref.secretName as string };
    return new SecretCredentialProvider(options.secrets ?? new SecretsManagerResolver(), secretRef, {
      ...named, ...(options.tokenUsername !== undefined ? { tokenUsername: options.tokenUsername } : {}),
    });
  }
  if (ref.env !== undefined) return new EnvPrefixCredentialProvider(ref.env, options.env ?? process.env, options.registryName);
  if (ref.dockerConfig) {
    const env = options.env ?? process.env;
    if (options.dockerConfigPath !== undefined) return new DockerConfigCredentialProvider({ path: options.dockerConfigPath, env });
    // The files the CLI reads too (docs/CREDENTIALS.md), so `regman sync` finds what `podman login` wrote.
    return new ChainCredentialProvider(...credentialFiles(env).map((f) => new DockerConfigCredentialProvider({ path: f.path, env })));
  }
  if (ref.iamRole !== undefined) {
    throw new CredentialError(
      `iamRole ${ref.iamRole} is an ECR credential reference; only an ecr registry can use it${options.registryName ? ` (registry "${options.registryName}")` : ''}`,
      { problem: 'unsupported', reference: `iamRole ${ref.iamRole}`, ...named },
    );
  }
  return new AnonymousCredentialProvider();
}
