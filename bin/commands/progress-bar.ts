// Renders copy events on stderr: a cli-progress bar on a TTY outside CI, else one line per blob event.
import cliProgress from 'cli-progress';
import { formatBytes } from '../../functions/format-bytes.ts';
import type { CopyEvent } from '../../functions/oci/progress.ts';

export interface ProgressReporter {
  readonly onEvent: (e: CopyEvent) => void;
  /** Ends the bar (or does nothing in line mode). */
  stop(): void;
}

const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/** True when a live bar fits: stderr is a terminal and CI is not set (aws-cdk's rule). */
export function wantsBar(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}

/** How the lines and the bar speak: a dry run (`--dry-run`) reports what would happen, nothing is sent. */
export interface ReporterOptions {
  readonly dryRun?: boolean;
}

/** One stderr line per blob outcome (and retries), for logs and CI. */
export function lineReporter(write: (line: string) => void = (l) => process.stderr.write(l + '\n'), options: ReporterOptions = {}): ProgressReporter {
  const uploaded = options.dryRun ? 'would upload' : 'uploaded';
  const mounted = options.dryRun ? 'would mount' : 'mounted';
  return {
    onEvent: (e) => {
      if (e.type !== 'blob') {
        if (e.phase === 'failed') write(`manifest ${short(e.digest)} failed: ${e.reason ?? ''}`);
        return;
      }
      const size = formatBytes(e.size);
      switch (e.phase) {
        case 'finished':
          write(`blob ${short(e.digest)} ${uploaded} ${size}`);
          break;
        case 'mounted':
          write(`blob ${short(e.digest)} ${mounted} ${size} ${e.reason ?? ''}`.trimEnd());
          break;
        case 'skipped':
          write(`blob ${short(e.digest)} skipped ${size} (${e.reason ?? 'present'})`);
          break;
        case 'retrying':
          write(`blob ${short(e.digest)} retrying: ${e.reason ?? ''}`);
          break;
        case 'failed':
          write(`blob ${short(e.digest)} failed: ${e.reason ?? ''}`);
          break;
        default:
          break;
      }
    },
    stop: () => undefined,
  };
}

/** A single bar of bytes over every blob seen so far (the total grows as blobs start). */
export function barReporter(stream: NodeJS.WritableStream = process.stderr, options: ReporterOptions = {}): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.dryRun ? 'plan' : 'copy'} [{bar}] {percentage}% | {done}/{count} blobs | {bytes}/{totalBytes} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const sizes = new Map<string, number>();
  const sent = new Map<string, number>();
  const settled = new Set<string>();
  let started = false;
  const render = (): void => {
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    const value = [...sent.values()].reduce((a, b) => a + b, 0);
    const payload = { done: settled.size, count: sizes.size, bytes: formatBytes(value), totalBytes: formatBytes(total) };
    if (!started) {
      bar.start(Math.max(total, 1), value, payload);
      started = true;
    } else {
      bar.setTotal(Math.max(total, 1));
      bar.update(value, payload);
    }
  };
  return {
    onEvent: (e) => {
      if (e.type !== 'blob') return;
      if (!sizes.has(e.digest)) sizes.set(e.digest, e.size);
      if (e.phase === 'progress') sent.set(e.digest, e.bytes ?? 0);
      if (e.phase === 'finished' || e.phase === 'skipped' || e.phase === 'mounted') {
        sent.set(e.digest, e.size);
        settled.add(e.digest);
      }
      if (e.phase === 'retrying') sent.set(e.digest, 0);
      render();
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** The reporter for this terminal. */
export function createProgressReporter(options: ReporterOptions = {}): ProgressReporter {
  return wantsBar() ? barReporter(process.stderr, options) : lineReporter(undefined, options);
}
