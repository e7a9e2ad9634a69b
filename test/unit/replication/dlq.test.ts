// Dead letters: the JSON-lines sink, listing and draining it, and delivery with retries like EventBridge's async invoke.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlDeadLetterSink, deliverWithRetries, drainDeadLetters, listDeadLetters } from '../../../functions/replication/dlq.ts';
import { ReplicationError } from '../../../functions/replication/errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regman-dlq-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (id: string) => ({ event: { id }, error: { code: 'REPLICATION_FAILED', message: `failed ${id}` }, attempts: 3, correlationId: id });

describe('JsonlDeadLetterSink', () => {
  it('appends one JSON line per record (creating folders), with a time', async () => {
    // Prepare
    const path = join(dir, 'state', 'dlq.jsonl');
    const sink = new JsonlDeadLetterSink(path, () => new Date('2024-01-02T03:04:05Z'));
    // Act
    await Promise.all([sink.send(record('a')), sink.send(record('b')), sink.send(record('c'))]);
    // Assess
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toEqual({ ...record('a'), time: '2024-01-02T03:04:05.000Z' });
    expect((await listDeadLetters(path)).map((r) => r.correlationId)).toEqual(['a', 'b', 'c']);
  });

  it('lists a missing file as empty, and names the line of a corrupt one', async () => {
    expect(await listDeadLetters(join(dir, 'none.jsonl'))).toEqual([]);
    const path = join(dir, 'bad.jsonl');
    await new JsonlDeadLetterSink(path).send(record('a'));
    await import('node:fs/promises').then((fs) => fs.appendFile(path, '{oops\n'));
    await expect(listDeadLetters(path)).rejects.toThrow(/bad\.jsonl:2: not a JSON dead letter/);
  });
});

describe('drainDeadLetters', () => {
  it('removes the records whose redrive succeeds and keeps the others with one more attempt', async () => {
    // Prepare
    const path = join(dir, 'dlq.jsonl');
    const sink = new JsonlDeadLetterSink(path);
    for (const id of ['a', 'b', 'c']) await sink.send(record(id));
    // Act
    const result = await drainDeadLetters(path, async (r) => {
      if (r.correlationId === 'b') throw new ReplicationError('target still down', { code: 'REPLICATION_FAILED', retryable: true });
    });
    // Assess
    expect(result).toEqual({ redriven: 2, remaining: 1 });
    const left = await listDeadLetters(path);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ correlationId: 'b', attempts: 4, error: { code: 'REPLICATION_FAILED', message: 'target still down' } });
  });
});

describe('deliverWithRetries', () => {
  it('retries a retryable failure, then dead-letters the event with the attempts made', async () => {
    // Prepare
    const path = join(dir, 'dlq.jsonl');
    let calls = 0;
    // Act
    const result = await deliverWithRetries(
      { id: 'evt-1' },
      async () => {
        calls += 1;
        throw new ReplicationError('target down', { code: 'REPLICATION_FAILED', retryable: true });
      },
      { sink: new JsonlDeadLetterSink(path), attempts: 3, baseDelayMs: 1 },
    );
    // Assess
    expect(result).toBeUndefined();
    expect(calls).toBe(3);
    expect(await listDeadLetters(path)).toEqual([expect.objectContaining({ correlationId: 'evt-1', attempts: 3, event: { id: 'evt-1' }, error: { code: 'REPLICATION_FAILED', message: 'target down' } })]);
  });

  it('does not retry a non-retryable error, and returns the result of a success', async () => {
    const path = join(dir, 'dlq.jsonl');
    let calls = 0;
    await deliverWithRetries({ id: 'e' }, async () => {
      calls += 1;
      throw new ReplicationError('bad source', { code: 'SOURCE_UNKNOWN', retryable: false });
    }, { sink: new JsonlDeadLetterSink(path), baseDelayMs: 1 });
    expect(calls).toBe(1);
    expect((await listDeadLetters(path))[0]?.attempts).toBe(1);
    let tries = 0;
    const ok = await deliverWithRetries({ id: 'f' }, async () => {
      tries += 1;
      if (tries === 1) throw new Error('flaky');
      return 'done';
    }, { sink: new JsonlDeadLetterSink(path), baseDelayMs: 1 });
    expect(ok).toBe('done');
    expect(await listDeadLetters(path)).toHaveLength(1);
  });
});
