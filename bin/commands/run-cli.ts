// Runs a commander program and prints an error once at the top: message, cause, a hint, the stack only with --debug.
import type { Command } from 'commander';
import { redact } from '../../functions/oci/redact.ts';

/** Exit codes: 0 success, 1 operation failed, 2 bad input (usage, config, policy, inventory). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT: the shell convention for a command stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** An error for bad user input: printed without a stack, exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function formatError(err: unknown, debug: boolean): string {
  const lines: string[] = [];
  const e = err instanceof Error ? err : new Error(String(err));
  lines.push(`error: ${e.message}`);
  let cause = (e as { cause?: unknown }).cause;
  while (cause instanceof Error) {
    lines.push(`  caused by: ${cause.message}`);
    cause = (cause as { cause?: unknown }).cause;
  }
  const hint = (e as { hint?: string }).hint;
  if (hint) lines.push(`Try: ${hint}`);
  if (debug && e.stack) lines.push(e.stack);
  // The last line of defence: whatever an error quotes (a reference, a URL), credentials never print.
  return redact(lines.join('\n'));
}

export async function runCli(program: Command, argv: string[]): Promise<void> {
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // commander already printed its message (help, version, or a usage error).
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(formatError(err, Boolean(program.opts().debug)) + '\n');
    process.exitCode = err instanceof UsageError ? EXIT_USAGE : ((err as { exitCode?: number }).exitCode ?? EXIT_FAILED);
    // Ctrl-C: the user asked to stop; a request still hanging on a silent registry must not keep the process alive.
    if (process.exitCode === EXIT_INTERRUPTED) process.exit(EXIT_INTERRUPTED);
  }
}
