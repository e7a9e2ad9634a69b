// The local stack's DynamoDB: dynalite on disk under the state folder, with the product's tables from TABLE_SPECS.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createDynamoClients } from '../functions/dynamo/client.ts';
import { createTables } from '../functions/dynamo/create-tables.ts';
import { startDynaliteServer } from '../functions/dynamo/dynalite-server.ts';
import { TABLE_SPECS, localTableNames, type TableKey } from '../functions/dynamo/tables.ts';

/** Local physical tables are `regman-<logicalName>`. */
export const LOCAL_TABLE_PREFIX = 'regman-';

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly tables: Readonly<Record<TableKey, string>>;
  /** Closes the listener and the LevelDB store (releases its lock). */
  stop(): Promise<void>;
}

/** Raised when another process holds the LevelDB folder (a running `regman local`). */
export class DynamoLockedError extends Error {
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(`the DynamoDB files at ${path} are locked: another process (a running local stack) holds them`, options);
    this.name = 'DynamoLockedError';
  }
}

/**
 * Starts dynalite on `path` and creates the tables (idempotent: a restart keeps the data).
 *
 * @throws DynamoLockedError when another process has the folder open.
 */
export async function startLocalDynamo(options: { readonly path: string; readonly port?: number }): Promise<LocalDynamo> {
  mkdirSync(options.path, { recursive: true });
  await assertUnlocked(options.path);
  const server = await startDynaliteServer({ path: options.path, ...(options.port !== undefined ? { port: options.port } : {}) });
  const clients = createDynamoClients({ endpoint: server.endpoint, region: 'local', maxAttempts: 1 });
  try {
    await createTables(clients.client, TABLE_SPECS, { prefix: LOCAL_TABLE_PREFIX });
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    clients.destroy();
  }
  return { endpoint: server.endpoint, tables: localTableNames(LOCAL_TABLE_PREFIX), stop: () => server.stop() };
}

interface LevelLike {
  open(): Promise<void>;
  close(): Promise<void>;
}

// dynalite's own LevelDB binding (a CommonJS dependency of dynalite, resolved from it).
const levelRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));

/**
 * dynalite opens LevelDB lazily and, when another process holds the LOCK, throws from inside its
 * request handler, which kills the process. So the lock is probed first with the same binding.
 */
async function assertUnlocked(path: string): Promise<void> {
  const { Level } = levelRequire('level') as { Level: new (path: string) => LevelLike };
  const probe = new Level(path);
  try {
    await probe.open();
  } catch (err) {
    if (isLockError(err)) throw new DynamoLockedError(path, { cause: err });
    throw err;
  }
  await probe.close();
}

/** LevelDB reports a held lock as `LEVEL_LOCKED` (the cause of `LEVEL_DATABASE_NOT_OPEN`). */
export function isLockError(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
    if (/\bLOCK\b|lock hold|Resource temporarily unavailable|already held/i.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}
