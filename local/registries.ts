// Starts one real distribution registry per registry of the local config, on chosen loopback ports, storing under the state folder.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig, type RegmanConfig } from '../functions/config/index.ts';
import { preferredOrFreePort } from './ports.ts';
import { ensureRegistryBinary, startRegistryProcess, type RegistryProcess } from './registry-process.ts';

/** How the config spells a registry's URL, and the port the local stack chose for it. */
export interface RegistryPortPlan {
  readonly name: string;
  /** The `${VAR}` the URL reads, when it reads one. */
  readonly envVar?: string;
  /** The port the URL names (the default of `${VAR:-url}`, or a literal URL's port). */
  readonly preferredPort?: number;
  /** True when the port must be exactly that: a literal URL, or the variable is already set. */
  readonly pinned: boolean;
}

const ENV_URL = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * Reads each registry's `url` as written (before interpolation): `${VAR:-http://127.0.0.1:5000}`
 * prefers 5000 and falls back to a free port; `${VAR}` takes a free port; a literal URL, or a
 * variable already set in `env`, pins the port.
 */
export function planRegistryPorts(configText: string, file: string, env: NodeJS.ProcessEnv): RegistryPortPlan[] {
  const raw = parseYaml(configText) as { registries?: Record<string, { kind?: unknown; url?: unknown }> } | null;
  const registries = raw?.registries ?? {};
  const plans: RegistryPortPlan[] = [];
  for (const [name, reg] of Object.entries(registries)) {
    if (reg?.kind !== 'oci' || typeof reg.url !== 'string') {
      throw new Error(`${file}: registries.${name}: the local stack runs only kind: oci registries on http://127.0.0.1 (got kind ${String(reg?.kind)})`);
    }
    const text = reg.url.trim();
    const ref = ENV_URL.exec(text);
    if (ref) {
      const envVar = ref[1]!;
      const set = env[envVar];
      if (set) plans.push({ name, envVar, preferredPort: loopbackPort(set, file, name), pinned: true });
      else plans.push({ name, envVar, pinned: false, ...(ref[2] ? { preferredPort: loopbackPort(ref[2], file, name) } : {}) });
    } else if (text.includes('${')) {
      throw new Error(`${file}: registries.${name}.url: the local stack needs the URL to be a loopback URL or one \${VAR:-url} reference, got "${text}"`);
    } else {
      plans.push({ name, preferredPort: loopbackPort(text, file, name), pinned: true });
    }
  }
  return plans;
}

function loopbackPort(url: string, file: string, name: string): number {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${file}: registries.${name}.url: "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(parsed.hostname)) {
    throw new Error(`${file}: registries.${name}.url: the local stack serves plain http on 127.0.0.1, got "${url}"`);
  }
  return parsed.port ? Number(parsed.port) : 80;
}

export interface StartLocalRegistriesOptions {
  readonly configFile: string;
  /** State folder: registry `<name>` stores under `<stateDir>/registries/<name>`. */
  readonly stateDir: string;
  /** Webhook URL for a source registry's notifications (called for each source). */
  readonly notifyUrlFor: (registry: string) => string;
  /** Headers the notifications carry (the control token). */
  readonly notifyHeaders?: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  /** @default process.env (the chosen URLs are written back into it, see below) */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Registries already running elsewhere, by name → URL: neither started nor stopped here (a test puts
   * a fault proxy in front of a target that must outlive a killed stack). @default none
   */
  readonly external?: Readonly<Record<string, string>>;
}

export interface LocalRegistries {
  /** The validated config, with the chosen URLs interpolated. */
  readonly config: RegmanConfig;
  /** `REGMAN_LOCAL_*_URL` values chosen for the config's variables. */
  readonly urlEnv: Readonly<Record<string, string>>;
  /** Registries that are the `source` of a replication rule (they send notifications), in rule order. */
  readonly sources: readonly string[];
  readonly processes: ReadonlyMap<string, RegistryProcess>;
  /** Restarts a stopped registry on the same port and storage (a no-op when running). */
  restart(name: string): Promise<RegistryProcess>;
  /** Stops every registry; storage stays. */
  stop(): Promise<void>;
}

/**
 * Chooses ports, sets the config's URL variables in `env` (so the config and anything that re-reads
 * it see the running registries), validates the config and starts the registries in parallel.
 */
export async function startLocalRegistries(options: StartLocalRegistriesOptions): Promise<LocalRegistries> {
  const env = options.env ?? process.env;
  const text = await readFile(options.configFile, 'utf8');
  const plans = planRegistryPorts(text, options.configFile, env);
  const bin = ensureRegistryBinary({ log: options.log });

  const ports = new Map<string, number>();
  const urlEnv: Record<string, string> = {};
  const external = options.external ?? {};
  for (const plan of plans) {
    const url = external[plan.name];
    if (url !== undefined) {
      if (plan.envVar) urlEnv[plan.envVar] = url;
      continue;
    }
    const taken = new Set(ports.values());
    const preferred = plan.preferredPort !== undefined && !taken.has(plan.preferredPort) ? plan.preferredPort : undefined;
    const port = plan.pinned ? plan.preferredPort! : await preferredOrFreePort(preferred);
    ports.set(plan.name, port);
    if (plan.envVar) urlEnv[plan.envVar] = `http://127.0.0.1:${port}`;
  }
  Object.assign(env, urlEnv);
  const config = await loadConfig(options.configFile, { env });
  const sources = [...new Set(config.replication.map((r) => r.source))];

  const startOne = (name: string): Promise<RegistryProcess> =>
    startRegistryProcess({
      name,
      bin,
      port: ports.get(name)!,
      rootDir: join(options.stateDir, 'registries', name),
      workDir: join(options.stateDir, 'run', name),
      ...(sources.includes(name) ? { notifyUrl: options.notifyUrlFor(name), ...(options.notifyHeaders ? { notifyHeaders: options.notifyHeaders } : {}) } : {}),
    });

  const processes = new Map<string, RegistryProcess>();
  for (const [name, url] of Object.entries(external)) processes.set(name, externalRegistry(name, url));
  const started = await Promise.allSettled(plans.filter((p) => external[p.name] === undefined).map(async (p) => processes.set(p.name, await startOne(p.name))));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all([...processes.values()].map((p) => p.stop()));
    throw failed.reason;
  }
  return {
    config,
    urlEnv,
    sources,
    processes,
    async restart(name) {
      const current = processes.get(name);
      if (!current) throw new Error(`no local registry named ${name}`);
      if (external[name] !== undefined) return current;
      if (current.running()) return current;
      const next = await startOne(name);
      processes.set(name, next);
      return next;
    },
    async stop() {
      await Promise.all([...processes.values()].map((p) => p.stop()));
    },
  };
}

/** A registry the stack did not start: always "running", never stopped by it. */
function externalRegistry(name: string, url: string): RegistryProcess {
  const parsed = new URL(url);
  return {
    name,
    url: parsed.origin,
    host: parsed.host,
    port: Number(parsed.port || 80),
    rootDir: '',
    pid: undefined,
    logs: () => '',
    running: () => true,
    stop: async () => undefined,
  };
}
