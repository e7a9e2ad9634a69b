// Dead letters: events whose retries ran out. In AWS the platform's SQS DLQ; locally a JSON-lines file the local stack drains.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCodeOf, errorMessageOf } from './observability.ts';

/** One event that could not be processed after its retries. */
export interface DeadLetterRecord {
  readonly event: unknown;
  readonly error: { readonly code: string; readonly message: string };
  /** Attempts made (the first one included). */
  readonly attempts: number;
  readonly correlationId: string;
  /** When it was dead-lettered (ISO 8601). @default now, set by the sink */
  readonly time?: string;
}

/** Where dead letters go. */
export interface DeadLetterSink {
  send(record: DeadLetterRecord): Promise<void>;
}

/**
 * Appends each dead letter as one JSON line (the local stack's DLQ stand-in, `<state-dir>/dlq.jsonl`).
 * Appends of one process are serialised so lines never interleave.
 *
 * @example
 * const dlq = new JsonlDeadLetterSink(join(stateDir, 'dlq.jsonl'));
 * await dlq.send({ event, error: { code: 'REPLICATION_FAILED', message }, attempts: 3, correlationId: event.id });
 */
export class JsonlDeadLetterSink implements DeadLetterSink {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  send(record: DeadLetterRecord): Promise<void> {
    const line = `${JSON.stringify({ ...record, time: record.time ?? this.now().toISOString() })}\n`;
    const write = this.tail.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, line, 'utf8');
    });
    // A failed append is reported to its caller; the next one still runs.
    this.tail = write.catch(() => undefined);
    return write;
  }
}

/** Every dead letter in a JSON-lines file, oldest first; a missing file is an empty queue. */
export async function listDeadLetters(path: string): Promise<DeadLetterRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as DeadLetterRecord;
      } catch (err) {
        throw new Error(`${path}:${i + 1}: not a JSON dead letter: ${(err as Error).message}`, { cause: err });
      }
    });
}

export interface DrainResult {
  /** Records whose redrive succeeded (removed from the file). */
  readonly redriven: number;
  /** Records still in the file (their redrive failed). */
  readonly remaining: number;
}

/**
 * Redrives every dead letter through `redrive` (e.g. the replicate handler), one at a time, and
 * rewrites the file with those that failed again. Not safe against a concurrent `send` to the same
 * file from another process: run it when the producer is idle (the local stack drains on demand).
 *
 * @example
 * await drainDeadLetters(path, (r) => replicateHandler(r.event, context));
 */
export async function drainDeadLetters(path: string, redrive: (record: DeadLetterRecord) => Promise<unknown>): Promise<DrainResult> {
  const records = await listDeadLetters(path);
  if (records.length === 0) return { redriven: 0, remaining: 0 };
  const keep: DeadLetterRecord[] = [];
  for (const record of records) {
    try {
      await redrive(record);
    } catch (err) {
      keep.push({ ...record, attempts: record.attempts + 1, error: { code: errorCodeOf(err), message: errorMessageOf(err) } });
    }
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, keep.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
  await rename(tmp, path);
  return { redriven: records.length - keep.length, remaining: keep.length };
}

export interface DeliverOptions {
  readonly sink: DeadLetterSink;
  /** Attempts in all, the first included (EventBridge's async invoke: 1 + 2 retries). @default 3 */
  readonly attempts?: number;
  /** Backoff before retry n: `baseDelayMs * 2^(n-1)`. @default 1000 */
  readonly baseDelayMs?: number;
  /** Correlation id of the dead letter. @default the event's `id` */
  readonly correlationId?: string;
}

/**
 * Invokes `fn(event)` like the platform's asynchronous invocation: retries a thrown error marked
 * `retryable` (or any error without that flag) with backoff, and sends the event to the sink when
 * attempts run out or the error is not retryable. Resolves with the result, or undefined when the
 * event was dead-lettered (it never rejects because of `fn`).
 */
export async function deliverWithRetries<T>(event: unknown, fn: (event: unknown) => Promise<T>, options: DeliverOptions): Promise<T | undefined> {
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    made = attempt;
    try {
      return await fn(event);
    } catch (err) {
      lastError = err;
      if ((err as { retryable?: unknown } | null)?.retryable === false || attempt === attempts) break;
      await sleep((options.baseDelayMs ?? 1000) * 2 ** (attempt - 1));
    }
  }
  const id = (event as { id?: unknown } | null)?.id;
  await options.sink.send({
    event,
    error: { code: errorCodeOf(lastError), message: errorMessageOf(lastError) },
    attempts: made,
    correlationId: options.correlationId ?? (typeof id === 'string' ? id : 'unknown'),
  });
  return undefined;
}
