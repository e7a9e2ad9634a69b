// Shared by the report commands: the --format choice and writing the result to stdout or --out.
import { writeFile } from 'node:fs/promises';
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
