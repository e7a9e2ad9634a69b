// AnchorSink on a folder: one JSON file per anchor (`<state>/audit-anchors/<time>.json`), written with O_EXCL so none is overwritten.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnchorDocument, AnchorSink } from '../anchor.ts';
import { AuditError } from '../errors.ts';

/**
 * Locally there is no Object Lock: the files are evidence against a changed table (which the stack
 * owns), not against someone who can also edit the state folder. On AWS use `S3AnchorSink`.
 */
export class FileAnchorSink implements AnchorSink {
  constructor(readonly folder: string) {}

  async write(doc: AnchorDocument): Promise<string> {
    await mkdir(this.folder, { recursive: true });
    const path = join(this.folder, `${doc.time.replace(/:/g, '-')}.json`);
    await writeFile(path, JSON.stringify(doc, null, 2) + '\n', { flag: 'wx' });
    return path;
  }

  async latest(): Promise<AnchorDocument | undefined> {
    let names: string[];
    try {
      names = (await readdir(this.folder)).filter((n) => n.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const newest = names.at(-1);
    if (newest === undefined) return undefined;
    const path = join(this.folder, newest);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as AnchorDocument;
    } catch (err) {
      throw new AuditError(`Audit anchor ${path} cannot be read: ${(err as Error).message}`, { code: 'AUDIT_ANCHOR_INVALID', cause: err });
    }
  }
}
