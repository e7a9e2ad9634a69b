// The local stack's anchors: a signed digest of every chain head in D/audit-anchors/, on a timer and at shutdown, with a key kept in D.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateAnchorKey } from '../functions/audit/anchor.ts';
import type { AuditLog } from '../functions/audit/audit-log.ts';
import { writeAnchor } from '../functions/audit/anchoring.ts';
import { FileAnchorSink } from '../functions/audit/anchors/file-sink.ts';

export const anchorFolder = (stateDir: string): string => join(stateDir, 'audit-anchors');
const keyPath = (stateDir: string): string => join(stateDir, 'audit-anchor-key.pem');

/** The state folder's signing key, created (mode 0600) on first use. */
export async function localAnchorKey(stateDir: string): Promise<string> {
  try {
    return await readFile(keyPath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(stateDir, { recursive: true });
  const { privateKey } = generateAnchorKey();
  try {
    await writeFile(keyPath(stateDir), privateKey, { mode: 0o600, flag: 'wx' });
    return privateKey;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFile(keyPath(stateDir), 'utf8');
    throw err;
  }
}

/** Writes one anchor of the local log; returns the file. */
export async function anchorLocalLog(log: AuditLog, stateDir: string, now: Date = new Date()): Promise<string> {
  return (await writeAnchor(log, new FileAnchorSink(anchorFolder(stateDir)), await localAnchorKey(stateDir), now)).where;
}

/** Anchors every `everyMinutes` and once more at stop. */
export function startLocalAnchoring(options: { readonly log: AuditLog; readonly stateDir: string; readonly everyMinutes: number; readonly onError: (message: string) => void }): { stop(): Promise<void> } {
  const run = async (): Promise<void> => {
    try {
      await anchorLocalLog(options.log, options.stateDir);
    } catch (err) {
      options.onError(`audit: could not write an anchor of the chain heads: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void run(), options.everyMinutes * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await run();
    },
  };
}
