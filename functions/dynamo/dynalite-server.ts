// Starts an in-process dynalite DynamoDB on loopback: for the local stack and tests only, never imported by Lambda handlers.
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options?: DynaliteOptions) => Server;

export interface DynaliteServerOptions {
  /** LevelDB folder to persist to; in memory when omitted. */
  readonly path?: string;
  /** Port to listen on (default 0: a free one). */
  readonly port?: number;
}

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and closes the LevelDB store. */
  stop(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1. New tables become ACTIVE immediately (createTableMs 0).
 * dynalite has no transactions and no TTL; see docs/AUDIT.md for how the audit log copes.
 *
 * @example
 * const db = await startDynaliteServer({ path: '.state/dynamodb' });
 * // ... use db.endpoint ...
 * await db.stop();
 */
export async function startDynaliteServer(options: DynaliteServerOptions = {}): Promise<DynaliteServer> {
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from SDK clients would hold close() open until they time out.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
