// AuditLog over the in-memory store: chaining, verification, tamper detection, anchors, contention, queries.
import { describe, expect, it } from 'vitest';
import { AuditLog, chooseIndex, headsDigest } from '../../../functions/audit/audit-log.ts';
import { GENESIS_HASH, hashRecord, partitionFor, sealRecord, sha256Hex } from '../../../functions/audit/chain.ts';
import { isAuditError } from '../../../functions/audit/errors.ts';
import { InMemoryAuditStore } from '../../../functions/audit/memory-store.ts';
import type { AuditStore } from '../../../functions/audit/store.ts';
import type { AuditRecordInput, StoredAuditRecord } from '../../../functions/audit/types.ts';

function rec(i: number, over: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    actor: 'event:aws.ecr',
    action: 'replicate',
    outcome: 'success',
    correlationId: `evt-${i}`,
    repository: 'team/app',
    time: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
    bytes: 100 * i,
    ...over,
  };
}

async function logWith(count: number, over: Partial<AuditRecordInput> = {}) {
  const store = new InMemoryAuditStore();
  const log = new AuditLog(store, { random: () => 0 });
  const stored: StoredAuditRecord[] = [];
  for (let i = 1; i <= count; i += 1) stored.push(await log.append(rec(i, over)));
  return { store, log, stored };
}

describe('chain sealing', () => {
  it('hashes sha256 over the canonical JSON of every field but the hash (known answer)', () => {
    // Prepare
    const record = { actor: 'a', action: 'copy', outcome: 'success' as const, correlationId: 'c', time: '2025-01-01T00:00:00.000Z' };

    // Act
    const sealed = sealRecord(record, 'global', 1, GENESIS_HASH);

    // Assess: the exact preimage an external verifier has to build.
    const preimage = `{"action":"copy","actor":"a","correlationId":"c","outcome":"success","partition":"global","prevHash":"${GENESIS_HASH}","seq":1,"time":"2025-01-01T00:00:00.000Z"}`;
    expect(sealed.hash).toBe(sha256Hex(preimage));
    expect(hashRecord(sealed)).toBe(sealed.hash);
  });

  it('partitions by repository, with a global chain for records without one', () => {
    expect(partitionFor({ repository: 'team/app' })).toBe('repo#team/app');
    expect(partitionFor({})).toBe('global');
  });
});

describe('AuditLog.append', () => {
  it('links each record to the previous one of its partition', async () => {
    // Act
    const { stored } = await logWith(3);

    // Assess
    expect(stored.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(stored[0]?.prevHash).toBe(GENESIS_HASH);
    expect(stored[1]?.prevHash).toBe(stored[0]?.hash);
    expect(stored[2]?.prevHash).toBe(stored[1]?.hash);
    expect(stored.every((r) => r.partition === 'repo#team/app')).toBe(true);
  });

  it('keeps one independent chain per repository', async () => {
    // Prepare
    const log = new AuditLog(new InMemoryAuditStore());

    // Act
    const a1 = await log.append(rec(1, { repository: 'a' }));
    const b1 = await log.append(rec(2, { repository: 'b' }));
    const a2 = await log.append(rec(3, { repository: 'a' }));
    const g1 = await log.append(rec(4, { repository: undefined, action: 'event.rejected', outcome: 'rejected' }));

    // Assess
    expect([a1.seq, b1.seq, a2.seq, g1.seq]).toEqual([1, 1, 2, 1]);
    expect(a2.prevHash).toBe(a1.hash);
    expect(g1.partition).toBe('global');
    expect(await log.head()).toEqual([
      { partition: 'global', seq: 1, hash: g1.hash, time: g1.time },
      { partition: 'repo#a', seq: 2, hash: a2.hash, time: a2.time },
      { partition: 'repo#b', seq: 1, hash: b1.hash, time: b1.time },
    ]);
  });

  it('serialises concurrent appenders into one chain', async () => {
    // Prepare
    const store = new InMemoryAuditStore();
    const log = new AuditLog(store);

    // Act
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(rec(i + 1))));

    // Assess
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, checked: 20, partitions: ['repo#team/app'] });
  });

  it('retries a lost conditional write on the new head, then gives up with AUDIT_CONTENTION', async () => {
    // Prepare: a store where every write loses, as if another appender always won.
    const inner = new InMemoryAuditStore();
    let puts = 0;
    const alwaysLoses: AuditStore = {
      latest: (p) => inner.latest(p),
      putIfAbsent: async () => {
        puts += 1;
        return false;
      },
      registerPartition: (p) => inner.registerPartition(p),
      listPartitions: () => inner.listPartitions(),
      discoverPartitions: () => inner.discoverPartitions(),
      readPartition: (p) => inner.readPartition(p),
      query: (q) => inner.query(q),
      advanceHead: (h) => inner.advanceHead(h),
      listHeads: () => inner.listHeads(),
    };
    const log = new AuditLog(alwaysLoses, { maxAttempts: 4, baseDelayMs: 1 });

    // Act
    const error = await log.append(rec(1)).catch((err: unknown) => err);

    // Assess
    expect(puts).toBe(4);
    expect(isAuditError(error, 'AUDIT_CONTENTION')).toBe(true);
    expect(error).toMatchObject({ retryable: true, partition: 'repo#team/app' });
  });

  it('wraps a store failure as AUDIT_STORE with its cause', async () => {
    // Prepare
    const failing = new InMemoryAuditStore();
    const cause = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    failing.latest = async () => {
      throw cause;
    };
    const log = new AuditLog(failing);

    // Act
    const error = await log.append(rec(1)).catch((err: unknown) => err);

    // Assess
    expect(isAuditError(error, 'AUDIT_STORE')).toBe(true);
    expect(error).toMatchObject({ retryable: true, cause });
    expect((error as Error).message).toMatch(/repo#team\/app: ProvisionedThroughputExceededException: Rate exceeded/);
  });
});

describe('AuditLog.verify', () => {
  it('passes on an untouched log', async () => {
    const { log } = await logWith(5);
    expect(await log.verify()).toEqual({ ok: true, checked: 5, partitions: ['repo#team/app'], broken: [], emptyPartitions: [] });
  });

  it('detects an edited field at that seq as hash-mismatch', async () => {
    // Prepare
    const { store, log } = await logWith(5);
    store.editItem('repo#team/app', 3, { bytes: 1 });

    // Act
    const result = await log.verify();

    // Assess
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ partition: 'repo#team/app', seq: 3, reason: 'hash-mismatch' });
    expect(result.checked).toBe(2);
  });

  it('detects an added attribute as hash-mismatch', async () => {
    const { store, log } = await logWith(3);
    store.editItem('repo#team/app', 2, { note: 'approved by me' });
    expect((await log.verify()).firstBroken).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
  });

  it('detects a record edited and re-hashed as prev-mismatch at the next seq', async () => {
    // Prepare: the forger recomputes seq 2's hash but cannot touch seq 3's prevHash without breaking seq 3.
    const { store, log, stored } = await logWith(4);
    const forged = { ...stored[1], actor: 'someone-else' } as StoredAuditRecord;
    store.editItem('repo#team/app', 2, { actor: 'someone-else', hash: hashRecord(forged) });

    // Act
    const result = await log.verify();

    // Assess
    expect(result.firstBroken).toMatchObject({ seq: 3, reason: 'prev-mismatch' });
  });

  it('detects a deleted record as a gap at its seq', async () => {
    const { store, log } = await logWith(5);
    store.deleteItem('repo#team/app', 3);
    expect((await log.verify()).firstBroken).toMatchObject({ seq: 3, reason: 'gap', detail: 'seq 3 is missing' });
  });

  it('detects records deleted from the start as a gap at seq 1', async () => {
    const { store, log } = await logWith(3);
    store.deleteItem('repo#team/app', 1);
    store.deleteItem('repo#team/app', 2);
    expect((await log.verify()).firstBroken).toMatchObject({ seq: 1, reason: 'gap', detail: 'seqs 1..2 are missing' });
  });

  it('detects an edited index key as hash-mismatch', async () => {
    const { store, log } = await logWith(3);
    store.editItem('repo#team/app', 2, { timeKey: '1999-01-01T00:00:00.000Z#repo#team/app#000000000002' });
    expect((await log.verify()).firstBroken).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
  });

  it('reports truncation of the newest records from the head item, and from an anchor once the head item is gone too', async () => {
    // Prepare
    const { store, log } = await logWith(5);
    const anchors = await log.head();
    store.deleteItem('repo#team/app', 5);
    store.deleteItem('repo#team/app', 4);

    // Act
    const byHeadItem = await log.verify();
    const chainOnly = await log.verify({ useHeadItems: false });
    store.deleteHead('repo#team/app');
    const headItemGone = await log.verify();
    const withAnchor = await log.verify({ anchors });

    // Assess
    expect(byHeadItem.firstBroken).toMatchObject({ partition: 'repo#team/app', seq: 4, reason: 'truncated' });
    expect(byHeadItem.firstBroken?.detail).toMatch(/newest 2 records were deleted/);
    expect(chainOnly.ok).toBe(true);
    expect(headItemGone.ok).toBe(true);
    expect(withAnchor.firstBroken).toMatchObject({ partition: 'repo#team/app', seq: 4, reason: 'truncated' });
  });

  it('queries by correlation id, alone and with an index filter', async () => {
    // Prepare
    const { log } = await logWith(3);
    await log.append(rec(4, { repository: 'other', correlationId: 'evt-2' }));

    // Act
    const all = await log.query({ correlationId: 'evt-2', order: 'oldest-first' });
    const inRepo = await log.query({ correlationId: 'evt-2', repository: 'other' });

    // Assess
    expect(all.map((r) => r.repository)).toEqual(['team/app', 'other']);
    expect(inRepo).toHaveLength(1);
    await expect(log.query({ correlationId: '' })).rejects.toMatchObject({ code: 'AUDIT_QUERY_INVALID' });
  });

  it('reports a chain rewritten from an anchored seq on as anchor-mismatch', async () => {
    // Prepare: replace records 2..3 with a freshly sealed, self-consistent history.
    const { store, log, stored } = await logWith(3);
    const anchors = await log.head();
    store.deleteItem('repo#team/app', 2);
    store.deleteItem('repo#team/app', 3);
    const fake2 = sealRecord({ ...stored[1], bytes: 0 } as StoredAuditRecord, 'repo#team/app', 2, stored[0]?.hash ?? '');
    const fake3 = sealRecord({ ...stored[2], bytes: 0 } as StoredAuditRecord, 'repo#team/app', 3, fake2.hash);
    await store.putIfAbsent(fake2);
    await store.putIfAbsent(fake3);

    // Act
    const withoutAnchor = await log.verify();
    const withAnchor = await log.verify({ anchors });

    // Assess: the head item was not moved (same seq), so only the anchor's hash shows the rewrite... and the head item's hash too.
    expect(withoutAnchor.firstBroken).toMatchObject({ seq: 3, reason: 'anchor-mismatch' });
    expect(withAnchor.firstBroken).toMatchObject({ seq: 3, reason: 'anchor-mismatch' });
  });

  it('reports the first break of each partition, in partition order', async () => {
    // Prepare
    const store = new InMemoryAuditStore();
    const log = new AuditLog(store);
    for (const repository of ['b', 'a', 'c']) for (let i = 1; i <= 3; i += 1) await log.append(rec(i, { repository }));
    store.editItem('repo#c', 1, { outcome: 'failure' });
    store.deleteItem('repo#a', 2);

    // Act
    const result = await log.verify();

    // Assess
    expect(result.partitions).toEqual(['repo#a', 'repo#b', 'repo#c']);
    expect(result.broken.map((b) => [b.partition, b.seq, b.reason])).toEqual([
      ['repo#a', 2, 'gap'],
      ['repo#c', 1, 'hash-mismatch'],
    ]);
    expect(result.firstBroken?.partition).toBe('repo#a');
    expect(result.checked).toBe(1 + 3 + 0);
  });

  it.each([1, 2, 8])('gives every record to visit, past a break too, and the same result one chain or %i at a time', async (concurrency) => {
    // Prepare
    const store = new InMemoryAuditStore();
    const log = new AuditLog(store);
    for (const repository of ['b', 'a', 'c']) for (let i = 1; i <= 3; i += 1) await log.append(rec(i, { repository }));
    store.editItem('repo#c', 1, { outcome: 'failure' });
    const visited: string[] = [];

    // Act
    const result = await log.verify({ concurrency, visit: (r) => visited.push(`${r.partition}#${r.seq}`) });

    // Assess: the broken chain's records after the break are visited, but not counted as checked.
    expect(visited.sort()).toEqual(['a', 'b', 'c'].flatMap((p) => [1, 2, 3].map((s) => `repo#${p}#${s}`)));
    expect(result).toEqual(await log.verify({ concurrency: 1 }));
    expect(result.broken.map((b) => [b.partition, b.seq])).toEqual([['repo#c', 1]]);
    expect(result.checked).toBe(3 + 3 + 0);
  });

  it('verifies one partition on request', async () => {
    const store = new InMemoryAuditStore();
    const log = new AuditLog(store);
    await log.append(rec(1, { repository: 'a' }));
    await log.append(rec(2, { repository: 'b' }));
    store.editItem('repo#b', 1, { bytes: 7 });
    expect(await log.verify({ partition: 'repo#a' })).toMatchObject({ ok: true, checked: 1, partitions: ['repo#a'] });
  });

  it('lists registered partitions whose records are all gone', async () => {
    const { store, log } = await logWith(1);
    store.deleteItem('repo#team/app', 1);
    expect(await log.verify({ useHeadItems: false })).toMatchObject({ ok: true, checked: 0, emptyPartitions: ['repo#team/app'] });
    // The head item still says seq 1 existed.
    expect((await log.verify()).firstBroken).toMatchObject({ seq: 1, reason: 'truncated' });
  });
});

describe('AuditLog.query', () => {
  it('filters by every given field and time bound, newest first by default', async () => {
    // Prepare
    const store = new InMemoryAuditStore();
    const log = new AuditLog(store);
    await log.append(rec(1, { repository: 'a', actor: 'x' }));
    await log.append(rec(2, { repository: 'a', actor: 'y' }));
    await log.append(rec(3, { repository: 'a', actor: 'x', action: 'copy' }));
    await log.append(rec(4, { repository: 'a', actor: 'x' }));
    await log.append(rec(5, { repository: 'b', actor: 'x' }));

    // Act
    const result = await log.query({ repository: 'a', actor: 'x', action: 'replicate', since: '2025-01-01T00:01:00Z', until: '2025-01-01T00:05:00Z' });

    // Assess
    expect(result.map((r) => r.correlationId)).toEqual(['evt-4', 'evt-1']);
  });

  it('honours order and limit', async () => {
    const { log } = await logWith(5);
    expect((await log.query({ order: 'oldest-first', limit: 2 })).map((r) => r.seq)).toEqual([1, 2]);
    expect((await log.query({ limit: 2 })).map((r) => r.seq)).toEqual([5, 4]);
    expect(await log.query({ limit: 0 })).toEqual([]);
  });

  it.each([
    [{ since: '2025-02-01T00:00:00Z', until: '2025-01-01T00:00:00Z' }, /since .* is after until/],
    [{ limit: -1 }, /limit must be a non-negative integer/],
    [{ repository: '' }, /repository is empty/],
    [{ since: 'last tuesday' }, /since: "last tuesday"/],
  ])('rejects %o with AUDIT_QUERY_INVALID', async (query, message) => {
    const log = new AuditLog(new InMemoryAuditStore());
    const error = await log.query(query).catch((err: unknown) => err);
    expect(isAuditError(error, 'AUDIT_QUERY_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('chooses the most selective index', () => {
    expect(chooseIndex({ action: 'copy', actor: 'x', repository: 'r' })).toBe('repository');
    expect(chooseIndex({ action: 'copy', actor: 'x' })).toBe('actor');
    expect(chooseIndex({ action: 'copy' })).toBe('action');
    expect(chooseIndex({})).toBe('time');
  });
});

describe('headsDigest', () => {
  it('changes when any head changes', async () => {
    const { log } = await logWith(2);
    const before = headsDigest(await log.head());
    await log.append(rec(3));
    const after = headsDigest(await log.head());
    expect(before).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  });
});
