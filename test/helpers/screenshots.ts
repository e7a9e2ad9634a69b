// Where browser tests write their screenshots: docs/screenshots/ only when asked (REGMAN_SCREENSHOTS=1), so that a
// plain `npm test` leaves the working tree clean; otherwise a temporary folder (the screenshot is still taken).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

let scratch: string | undefined;

/** The folder screenshots go to: docs/screenshots with REGMAN_SCREENSHOTS=1, else one temporary folder per process. */
export function screenshotDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGMAN_SCREENSHOTS === '1') {
    const docs = resolve(import.meta.dirname, '../../docs/screenshots');
    mkdirSync(docs, { recursive: true });
    return docs;
  }
  scratch ??= mkdtempSync(join(tmpdir(), 'regman-screenshots-'));
  return scratch;
}

/** The path of screenshot `name` (e.g. `approval-phone.png`). */
export function screenshotPath(name: string): string {
  return join(screenshotDir(), name);
}
