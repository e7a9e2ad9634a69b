// Starts and stops real CNCF distribution registries (`docker-registry`) for tests.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { registryConfigYaml, type RegistryConfigOptions } from '../../local/registry-process.ts';
import { startTokenServer, type RunningTokenServer, type TokenServerOptions } from './token-server.ts';

export const REGISTRY_BIN = process.env.REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface TokenAuthSettings {
  /** URL of the token endpoint the registry sends clients to. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Path of a PEM certificate whose key signs the tokens. */
  readonly rootCertBundle: string;
}

export interface RegistryOptions {
  /** Basic auth: user → password. The harness writes a bcrypt htpasswd file with `htpasswd`. */
  readonly htpasswd?: Readonly<Record<string, string>>;
  readonly token?: TokenAuthSettings;
  /** Webhook endpoints that receive the registry's notifications. */
  readonly notifyUrls?: readonly string[];
  /** Emit relative Location headers (ACR does; @azure/container-registry needs it). */
  readonly relativeUrls?: boolean;
  /** Reuse a storage folder (kept on stop) instead of a fresh temp one. */
  readonly rootDir?: string;
  readonly port?: number;
}

export interface RunningRegistry {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** e.g. 127.0.0.1:41234, as used in image references */
  readonly host: string;
  readonly port: number;
  readonly rootDir: string;
  readonly logs: () => string;
  stop(): Promise<void>;
}

/**
 * Fails loudly when the registry binary is absent: tests that need a registry must fail, not skip,
 * so that a CI machine without `docker-registry` cannot pass by running nothing.
 */
export function assertRegistryInstalled(): void {
  if (!existsSync(REGISTRY_BIN)) {
    throw new Error(
      `${REGISTRY_BIN} not found. Install the CNCF distribution registry: sudo apt-get install -y docker-registry`,
    );
  }
}

/** The registry's config.yml: the local stack's (local/registry-process.ts), plus the test auth variants. */
function configYaml(port: number, root: string, opts: RegistryOptions, workDir: string): string {
  let auth: RegistryConfigOptions['auth'];
  if (opts.htpasswd) {
    const file = join(workDir, 'htpasswd');
    writeFileSync(file, '');
    for (const [user, pass] of Object.entries(opts.htpasswd)) {
      execFileSync('htpasswd', ['-bB', file, user, pass], { stdio: 'ignore' });
    }
    auth = { htpasswdFile: file };
  } else if (opts.token) {
    auth = { token: opts.token };
  }
  return registryConfigYaml({
    port,
    rootDir: root,
    relativeUrls: opts.relativeUrls ?? false,
    ...(opts.notifyUrls ? { notifyUrls: opts.notifyUrls } : {}),
    ...(auth ? { auth } : {}),
  });
}

async function waitReady(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${logs()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry at ${url} did not answer within 15 s: ${logs()}`);
}

/** Starts one registry on a free loopback port with its own temp storage and delete enabled. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  assertRegistryInstalled();
  const workDir = mkdtempSync(join(tmpdir(), 'regman-reg-'));
  const rootDir = opts.rootDir ?? join(workDir, 'data');
  const port = opts.port ?? (await freePort());
  const cfg = join(workDir, 'config.yml');
  writeFileSync(cfg, configYaml(port, rootDir, opts, workDir));
  const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const logs = (): string => out;
  try {
    await waitReady(url, child, logs);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    rootDir,
    logs,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** A registry with token auth, together with the token server it trusts. */
export interface TokenRegistry extends RunningRegistry {
  readonly tokenServer: RunningTokenServer;
}

/**
 * Starts a token server and a registry that trusts it (`auth.token`); `stop()` stops both.
 *
 * @example
 * const reg = await startTokenRegistry({
 *   users: { ci: { password: 'pw', access: [{ repository: '**', actions: ['pull', 'push', 'delete'] }] } },
 * });
 */
export async function startTokenRegistry(
  opts: TokenServerOptions,
  registryOpts: Omit<RegistryOptions, 'token' | 'htpasswd'> = {},
): Promise<TokenRegistry> {
  const tokenServer = await startTokenServer(opts);
  let registry: RunningRegistry;
  try {
    registry = await startRegistry({ ...registryOpts, token: tokenServer });
  } catch (err) {
    await tokenServer.stop();
    throw err;
  }
  return {
    ...registry,
    tokenServer,
    async stop() {
      await registry.stop();
      await tokenServer.stop();
    },
  };
}
