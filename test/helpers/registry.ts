// Starts and stops real CNCF distribution registries (`docker-registry`) for tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { RegistryClient } from '../../functions/oci/client.ts';
import { freePort } from './ports.ts';
import { startRegistryProcess, type RegistryConfigOptions, type RegistryProcess } from '../../local/registry-process.ts';
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
  /** Emit relative Location headers, as ACR does: the ACR adapter tests and RegistryClient's upload tests resolve them against the request URL. */
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
  /** The registry process, e.g. to read its CPU time from /proc (benchmarks). */
  readonly pid?: number;
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

/** The auth variant of `opts`, writing a bcrypt htpasswd file (with the `htpasswd` tool) when asked. */
function authOf(opts: RegistryOptions, workDir: string): RegistryConfigOptions['auth'] {
  if (opts.htpasswd) {
    const file = join(workDir, 'htpasswd');
    writeFileSync(file, '');
    for (const [user, pass] of Object.entries(opts.htpasswd)) {
      execFileSync('htpasswd', ['-bB', file, user, pass], { stdio: 'ignore' });
    }
    return { htpasswdFile: file };
  }
  return opts.token ? { token: opts.token } : undefined;
}

/**
 * Starts one registry on a free loopback port with its own temp storage and delete enabled: the local
 * stack's registry process (local/registry-process.ts), plus the test auth variants.
 */
/** A registry and a plain-HTTP client for it, shared by the tests of one describe block. */
export interface RegistryWithClient {
  reg: RunningRegistry;
  client: RegistryClient;
}

/**
 * Starts a registry and a client for it before the enclosing describe block's tests, and stops both
 * after them. Read `ctx.reg` and `ctx.client` inside the tests (they are set in beforeAll).
 *
 * @example
 * const ctx = useRegistryWithClient();
 * it('…', async () => { await pushImage(ctx.reg, 'team/app', 'v1'); });
 */
export function useRegistryWithClient(): RegistryWithClient {
  const ctx = {} as RegistryWithClient;
  beforeAll(async () => {
    ctx.reg = await startRegistry();
    ctx.client = new RegistryClient({ host: ctx.reg.host, plainHttp: true });
  });
  afterAll(async () => {
    ctx.client?.close();
    await ctx.reg?.stop();
  });
  return ctx;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  assertRegistryInstalled();
  const workDir = mkdtempSync(join(tmpdir(), 'regman-reg-'));
  const auth = authOf(opts, workDir);
  let registry: RegistryProcess;
  try {
    registry = await startRegistryProcess({
      name: 'test',
      bin: REGISTRY_BIN,
      workDir,
      rootDir: opts.rootDir ?? join(workDir, 'data'),
      port: opts.port ?? (await freePort()),
      relativeUrls: opts.relativeUrls ?? false,
      ...(opts.notifyUrls ? { notifyUrls: opts.notifyUrls } : {}),
      ...(auth ? { auth } : {}),
    });
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: registry.url,
    host: registry.host,
    port: registry.port,
    rootDir: registry.rootDir,
    ...(registry.pid !== undefined ? { pid: registry.pid } : {}),
    logs: () => registry.logs(),
    async stop() {
      await registry.stop();
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
