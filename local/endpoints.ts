// D/endpoints.json: where a running local stack serves, for scripts, tests and `regman audit --state-dir`.
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file a running `regman local` writes when everything is ready (and removes on a clean stop). */
export interface LocalEndpoints {
  /** Registry name → `http://127.0.0.1:PORT`. */
  readonly registries: Readonly<Record<string, string>>;
  /** The config file the stack runs (absolute): the report commands' default config with --state-dir. */
  readonly configFile?: string;
  /**
   * The config's variables as the stack set them (`REGMAN_LOCAL_*_URL` = the ports it got, the control
   * URL): a command reading the same config with --state-dir interpolates it as the stack did.
   */
  readonly configEnv?: Readonly<Record<string, string>>;
  /** The registry pushes come from (the first replication rule's source). */
  readonly source: string;
  /** Environment name → its registries' names (promotion targets), from the config. */
  readonly environments: Readonly<Record<string, readonly string[]>>;
  readonly dynamodb: { readonly endpoint: string; readonly tables: Readonly<Record<string, string>> };
  /** The control listener: `POST /reconcile`, `POST /notifications/<registry>`, `GET /health`, the promotion API (`/promotions`). */
  readonly control: string;
  /**
   * The secret every state-changing control request carries as `Authorization: Bearer <controlToken>`;
   * new at every start. The file is mode 0600 so only its owner reads it.
   */
  readonly controlToken: string;
  /** The web console (approval pages, pending approvals, recent promotions): the control listener's URL. */
  readonly console?: string;
  /** CI webhook URLs (GitHub, GitLab) and the file with their shared secret: local/webhook-routes.ts. */
  readonly webhooks?: { readonly github: string; readonly gitlab: string; readonly secretFile: string };
  readonly pid: number;
}

export function endpointsFile(stateDir: string): string {
  return join(stateDir, 'endpoints.json');
}

/** Written to a temp file (mode 0600: it holds the control token) and renamed, so a reader never sees half a file. */
export async function writeEndpoints(stateDir: string, endpoints: LocalEndpoints): Promise<void> {
  const file = endpointsFile(stateDir);
  await writeFile(`${file}.tmp`, JSON.stringify(endpoints, null, 2) + '\n', { mode: 0o600 });
  // A temp file left by a crash keeps its old mode: writeFile's mode applies on creation only.
  await chmod(`${file}.tmp`, 0o600);
  await rename(`${file}.tmp`, file);
}

export async function removeEndpoints(stateDir: string): Promise<void> {
  await rm(endpointsFile(stateDir), { force: true });
}

/** The endpoints of the stack running on `stateDir`, or undefined when none runs (no file, or its process is gone). */
export async function readLiveEndpoints(stateDir: string): Promise<LocalEndpoints | undefined> {
  let text: string;
  try {
    text = await readFile(endpointsFile(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  const endpoints = JSON.parse(text) as LocalEndpoints;
  return processAlive(endpoints.pid) ? endpoints : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a local stack's control listener answers `GET /health` (within 1 s). */
export async function controlAnswers(controlUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${controlUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
