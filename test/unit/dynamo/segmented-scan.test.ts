// raceSegments: every segment's first request at once, the next one sent before a page is yielded, pages in arrival order, failures not left unhandled.
import { describe, expect, it } from 'vitest';
import { raceSegments } from '../../../functions/dynamo/segmented-scan.ts';

interface Page {
  readonly items: string[];
  readonly LastEvaluatedKey?: number;
}

/** A request function whose answers the test settles by hand; `sent` lists every request as `segment@startKey`. */
function controlled() {
  const sent: string[] = [];
  const pending = new Map<string, { resolve: (p: Page) => void; reject: (e: Error) => void }>();
  const request = (segment: number, startKey: number | undefined): Promise<Page> => {
    const id = `${segment}@${startKey ?? '-'}`;
    sent.push(id);
    return new Promise<Page>((resolve, reject) => pending.set(id, { resolve, reject }));
  };
  const answer = (id: string, page: Page) => pending.get(id)!.resolve(page);
  const fail = (id: string, err: Error) => pending.get(id)!.reject(err);
  return { sent, request, answer, fail };
}

describe('raceSegments', () => {
  it('sends every first request at once and a segment\'s next request before its page is yielded', async () => {
    // Prepare
    const c = controlled();
    const pages = raceSegments([0, 1, 2], c.request)[Symbol.asyncIterator]();

    // Act: segment 1 answers first, with a key to go on from
    const first = pages.next();
    await Promise.resolve();
    expect(c.sent).toEqual(['0@-', '1@-', '2@-']);
    c.answer('1@-', { items: ['b1'], LastEvaluatedKey: 7 });

    // Assess
    expect((await first).value).toEqual({ segment: 1, page: { items: ['b1'], LastEvaluatedKey: 7 }, last: false });
    expect(c.sent).toEqual(['0@-', '1@-', '2@-', '1@7']);
  });

  it('yields pages in arrival order across segments, each segment\'s own in order, and ends when every segment has no key', async () => {
    // Prepare
    const c = controlled();
    const seen: string[] = [];

    // Act: answer each request as it is sent, a segment's later pages before the other segments' first
    const done = (async () => {
      for await (const { segment, page, last } of raceSegments([3, 5], c.request)) seen.push(`${segment}:${page.items.join(',')}${last ? ':last' : ''}`);
    })();
    await Promise.resolve();
    c.answer('5@-', { items: ['a', 'b'], LastEvaluatedKey: 2 });
    await new Promise((r) => setImmediate(r));
    c.answer('5@2', { items: ['c'] });
    await new Promise((r) => setImmediate(r));
    c.answer('3@-', { items: [] });
    await done;

    // Assess
    expect(seen).toEqual(['5:a,b', '5:c:last', '3::last']);
    expect(c.sent).toEqual(['3@-', '5@-', '5@2']);
  });

  it('rejects with a failed request', async () => {
    // Prepare
    const c = controlled();

    // Act
    const read = (async () => {
      for await (const page of raceSegments([0, 1], c.request)) void page;
    })();
    await Promise.resolve();
    c.fail('0@-', new Error('segment 0 down'));

    // Assess
    await expect(read).rejects.toThrow('segment 0 down');
  });

  it('a caller that stops early sends nothing more, and a request it left in flight fails without an unhandled rejection', async () => {
    // Prepare
    const c = controlled();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Act: take segment 0's first page, then stop; segment 0's next request is already out (and then fails), segment 1's answers late
      const read = (async () => {
        for await (const { page } of raceSegments([0, 1], c.request)) return page.items;
        return [];
      })();
      await Promise.resolve();
      c.answer('0@-', { items: ['x'], LastEvaluatedKey: 1 });
      const items = await read;
      c.fail('0@1', new Error('read after the caller left'));
      c.answer('1@-', { items: ['z'], LastEvaluatedKey: 9 });
      await new Promise((r) => setImmediate(r));

      // Assess
      expect(items).toEqual(['x']);
      expect(c.sent).toEqual(['0@-', '1@-', '0@1']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
