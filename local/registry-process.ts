// Runs one CNCF distribution registry (`docker-registry serve`) as a child process on loopback, with storage that survives restarts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Debian package `docker-registry` installs distribution 2.8 here. */
export const DEFAULT_REGISTRY_BIN = '/usr/bin/docker-registry';

/** The exact command that installs the registry on Debian/Ubuntu. */
export const INSTALL_COMMAND = 'sudo apt-get install -y docker-registry';

export interface RegistryProcessOptions extends RegistryConfigOptions {
  /** Registry name in the config (used in messages). */
  readonly name: string;
  /** Folder for the generated `config.yml`. */
  readonly workDir: string;
  /** @default DEFAULT_REGISTRY_BIN or `$REGISTRY_BIN` */
  readonly bin?: string;
  /** How long to wait for `GET /v2/` to answer. @default 15 000 ms */
  readonly readyTimeoutMs?: number;
}

export interface RegistryProcess {
  readonly name: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, as in image references */
  readonly host: string;
  readonly port: number;
  readonly rootDir: string;
  readonly pid: number | undefined;
  /** The last 8 KB of the registry's output. */
  logs(): string;
  /** Whether the process is still running. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after 3 s. Keeps the storage. Idempotent. */
  stop(): Promise<void>;
}

/** What a registry's config.yml says: storage, port, auth, notifications, Location style. */
export interface RegistryConfigOptions {
  readonly port: number;
  /** Storage root: blobs and manifests live here and survive a restart. */
  readonly rootDir: string;
  /** Webhook that receives this registry's `notifications` (push events). */
  readonly notifyUrl?: string;
  /** More webhooks (the test harness fans out to several listeners). */
  readonly notifyUrls?: readonly string[];
  /** Headers every notification carries (the control listener's bearer token). */
  readonly notifyHeaders?: Readonly<Record<string, string>>;
  /** Relative `Location` headers, as ACR sends them. @default false */
  readonly relativeUrls?: boolean;
  /** Basic auth from an htpasswd file, or Docker token auth. @default anonymous */
  readonly auth?:
    | { readonly htpasswdFile: string }
    | { readonly token: { readonly realm: string; readonly service: string; readonly issuer: string; readonly rootCertBundle: string } };
}

/**
 * The registry's configuration. Delete is enabled (retention deletes by digest). Notifications report
 * every push, pull and mount; the listener keeps manifest pushes only.
 * https://distribution.github.io/distribution/about/configuration/#notifications
 */
export function registryConfigYaml(options: RegistryConfigOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${options.rootDir}`,
    '  delete:',
    '    enabled: true',
    // Abandoned upload sessions (a crash mid-blob) are purged after an hour; distribution starts its
    // purger after a random delay of up to an hour, then runs it every `interval`.
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: true',
    '      age: 1h',
    '      interval: 30m',
    '      dryrun: false',
    'http:',
    `  addr: 127.0.0.1:${options.port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    `  relativeurls: ${options.relativeUrls ? 'true' : 'false'}`,
  ];
  const auth = options.auth;
  if (auth !== undefined && 'htpasswdFile' in auth) {
    lines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${auth.htpasswdFile}`);
  } else if (auth !== undefined) {
    const t = auth.token;
    lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  const urls = [...(options.notifyUrl ? [options.notifyUrl] : []), ...(options.notifyUrls ?? [])];
  if (urls.length > 0) {
    lines.push('notifications:', '  endpoints:');
    urls.forEach((url, i) => {
      lines.push(
        `    - name: regman-${i}`,
        `      url: ${url}`,
        '      timeout: 2s',
        ...notifyHeaderLines(options.notifyHeaders),
        // distribution retries a failed delivery forever, `threshold` failures before backing off.
        '      threshold: 3',
        '      backoff: 1s',
        // No `ignore: {actions: [pull]}`: distribution 2.8.2 still sends pull events with it (measured), so the listener filters.
      );
    });
  }
  return lines.join('\n') + '\n';
}

/** distribution's `headers:` map (name → list of values); values are JSON-quoted so YAML reads them verbatim. */
function notifyHeaderLines(headers: Readonly<Record<string, string>> | undefined): string[] {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return [];
  return ['      headers:', ...entries.map(([name, value]) => `        ${name}: [${JSON.stringify(value)}]`)];
}

export interface EnsureRegistryOptions {
  readonly bin?: string;
  /** Where progress goes (the apt-get notice). */
  readonly log: (line: string) => void;
  /** @default process.getuid?.() === 0 */
  readonly isRoot?: boolean;
}

/** Raised when docker-registry is missing and cannot be installed; `hint` is the exact command. */
export class RegistryMissingError extends Error {
  readonly hint: string;
  constructor(bin: string) {
    super(`${bin} not found: the local stack runs the CNCF distribution registry (Debian package docker-registry)`);
    this.name = 'RegistryMissingError';
    this.hint = INSTALL_COMMAND;
  }
}

/**
 * Makes sure the registry binary exists: as root it runs `apt-get install -y docker-registry` (and
 * says so), otherwise it throws RegistryMissingError carrying the exact command to run.
 */
export function ensureRegistryBinary(options: EnsureRegistryOptions): string {
  const bin = options.bin ?? process.env.REGISTRY_BIN ?? DEFAULT_REGISTRY_BIN;
  if (existsSync(bin)) return bin;
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  // The package installs DEFAULT_REGISTRY_BIN only: installing it cannot help a custom REGISTRY_BIN.
  if (!isRoot || bin !== DEFAULT_REGISTRY_BIN) throw new RegistryMissingError(bin);
  options.log(`${bin} not found: running apt-get install -y docker-registry (as root)`);
  const result = spawnSync('apt-get', ['install', '-y', 'docker-registry'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(bin)) throw new RegistryMissingError(bin);
  return bin;
}

/** Registries still running: killed if this process exits without stopping them (a crash must not leave them holding ports). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Starts the registry and resolves once `GET /v2/` answers. */
export async function startRegistryProcess(options: RegistryProcessOptions): Promise<RegistryProcess> {
  const bin = options.bin ?? process.env.REGISTRY_BIN ?? DEFAULT_REGISTRY_BIN;
  mkdirSync(options.rootDir, { recursive: true });
  mkdirSync(options.workDir, { recursive: true });
  const configFile = join(options.workDir, 'config.yml');
  // Mode 0600: it holds the HTTP secret and the control token the notifications carry.
  writeFileSync(configFile, registryConfigYaml(options), { mode: 0o600 });
  const child = spawn(bin, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await Promise.race([waitReady(url, child, () => out, options.readyTimeoutMs ?? 15_000, options.name), spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    url,
    host: `127.0.0.1:${options.port}`,
    port: options.port,
    rootDir: options.rootDir,
    pid: child.pid,
    logs: () => out,
    running: () => child.exitCode === null && child.signalCode === null,
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(url: string, child: ChildProcess, logs: () => string, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry ${name}: docker-registry exited (${child.exitCode}): ${logs().trim()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry ${name}: docker-registry at ${url} did not answer within ${timeoutMs} ms: ${logs().trim()}`);
}
