// Shared by the report commands: the --format choice and writing the result to stdout or --out.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { UsageError } from './run-cli.ts';

export type ReportFormat = 'text' | 'json' | 'md' | 'html';
const FORMATS: readonly ReportFormat[] = ['text', 'json', 'md', 'html'];

export function parseFormat(value: string | undefined, allowed: readonly ReportFormat[] = FORMATS): ReportFormat {
  const format = (value ?? allowed[0]) as ReportFormat;
  if (!allowed.includes(format)) throw new UsageError(`--format ${value} is not one of ${allowed.join(', ')}`, `--format ${allowed[0]}`);
  return format;
}

/** Prints to stdout, or writes `out` and says so on stderr. */
export async function emit(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  else {
    await writeFile(out, text);
    process.stderr.write(`wrote ${out}\n`);
  }
}

/** `emit` for text given in pieces (a large JSON report): written in batches as they come, waiting for the stream to drain. */
export async function emitChunks(chunks: Iterable<string>, out: string | undefined): Promise<void> {
  const stream: Writable = out === undefined ? process.stdout : createWriteStream(out);
  let batch = '';
  let last = '';
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const ok = stream.write(batch);
    batch = '';
    if (!ok) await new Promise<void>((resolve) => stream.once('drain', resolve));
  };
  for (const chunk of chunks) {
    batch += chunk;
    if (chunk.length > 0) last = chunk;
    if (batch.length >= 1 << 16) await flush();
  }
  // Like emit: stdout gets a final newline; a file gets the text as it is.
  if (out === undefined && !last.endsWith('\n')) batch += '\n';
  await flush();
  if (out !== undefined) {
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    process.stderr.write(`wrote ${out}\n`);
  }
}
