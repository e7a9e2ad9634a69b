// Opens the local stack's audit log from its state folder: through the running stack's endpoint, or the dynalite files directly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDynamoAuditLog, type AuditLog } from '../functions/audit/index.ts';
import { DynamoLockedError, startLocalDynamo } from './dynamodb.ts';
import { readLiveEndpoints } from './endpoints.ts';

export interface OpenedAuditLog {
  readonly log: AuditLog;
  /** How it was reached, for messages: the running stack's endpoint, or the files. */
  readonly via: string;
  close(): Promise<void>;
}

/** The message for a held LevelDB lock without a usable endpoints.json. */
export const LOCKED_MESSAGE = 'the local stack is running; it holds the database: query it while running via the endpoint';

/**
 * While `regman local` runs, it holds the LevelDB lock: use the endpoint from D/endpoints.json.
 * Otherwise open D/dynamodb with an in-process dynalite (for as long as the command runs).
 *
 * @throws Error when the state folder has no database, or the files are locked by a stack whose endpoints.json is gone.
 */
export async function openLocalAuditLog(stateDir: string): Promise<OpenedAuditLog> {
  const live = await readLiveEndpoints(stateDir);
  if (live) {
    const tableName = live.dynamodb.tables.audit;
    if (!tableName) throw new Error(`${join(stateDir, 'endpoints.json')} names no audit table`);
    const opened = openDynamoAuditLog({ endpoint: live.dynamodb.endpoint, tableName, region: 'local' });
    return { log: opened.log, via: `the running local stack (pid ${live.pid}) at ${live.dynamodb.endpoint}`, close: async () => opened.close() };
  }
  const path = join(stateDir, 'dynamodb');
  if (!existsSync(path)) throw new Error(`no local stack state in ${stateDir}: start one with \`regman local --state-dir ${stateDir}\``);
  let db;
  try {
    db = await startLocalDynamo({ path });
  } catch (err) {
    if (err instanceof DynamoLockedError) throw new Error(LOCKED_MESSAGE, { cause: err });
    throw err;
  }
  const opened = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tables.audit, region: 'local' });
  return {
    log: opened.log,
    via: `the files in ${path}`,
    async close() {
      opened.close();
      await db.stop();
    },
  };
}
