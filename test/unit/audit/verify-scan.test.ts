// verify over a store's whole-table scan (pages of interleaved chains, in any order) gives the result of reading each chain by itself.
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../functions/audit/audit-log.ts';
import type { ChainEntry } from '../../../functions/audit/chain.ts';
import { InMemoryAuditStore } from '../../../functions/audit/memory-store.ts';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';

/** The in-memory store plus a `scanChains` that returns every chain item in pages of 3, in the order `arrange` gives. */
class ScanningStore extends InMemoryAuditStore {
  constructor(private readonly arrange: (entries: ChainEntry[]) => ChainEntry[]) {
    super();
  }

  async *scanChains(): AsyncIterable<readonly ChainEntry[]> {
    const entries: ChainEntry[] = [];
    for await (const p of this.discoverPartitions()) for await (const e of this.readPartition(p)) entries.push(e);
    const arranged = this.arrange(entries);
    for (let i = 0; i < arranged.length; i += 3) yield arranged.slice(i, i + 3);
  }
}

/** A fixed permutation (no randomness in tests): odd positions reversed after even ones. */
const scramble = (entries: ChainEntry[]): ChainEntry[] => [...entries.filter((_, i) => i % 2 === 0), ...entries.filter((_, i) => i % 2 === 1).reverse()];

async function fill(store: InMemoryAuditStore): Promise<AuditLog> {
  const log = new AuditLog(store, { random: () => 0 });
  for (let i = 1; i <= 7; i += 1) {
    for (const repository of ['team/app', 'team/db', undefined]) {
      await log.append({ actor: 'cli:ana', action: 'copy', outcome: 'success', correlationId: `c-${i}`, time: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(), ...(repository ? { repository } : {}) });
    }
  }
  return log;
}

const tamperings: [string, (s: InMemoryAuditStore) => void][] = [
  ['intact', () => undefined],
  ['an edited record', (s) => s.editItem('repo#team/app', 3, { bytes: 1 })],
  ['a deleted middle record', (s) => s.deleteItem('repo#team/db', 4)],
  ['deleted newest records (truncation)', (s) => (s.deleteItem('global', 7), s.deleteItem('global', 6))],
  ['a deleted first record', (s) => s.deleteItem('repo#team/app', 1)],
];

describe('verify from a whole-table scan', () => {
  it.each(tamperings)('matches the per-chain reads with %s, whatever order the pages come in', async (_, tamper) => {
    // Prepare: the same log in a plain store (one read per chain) and in scanning stores (in order, scrambled, reversed).
    const plain = new InMemoryAuditStore();
    const plainLog = await fill(plain);
    tamper(plain);
    const expected = await plainLog.verify();
    let items = 0;
    for await (const p of plain.discoverPartitions()) for await (const _ of plain.readPartition(p)) items += 1;
    for (const arrange of [(e: ChainEntry[]) => e, scramble, (e: ChainEntry[]) => [...e].reverse()]) {
      const store = new ScanningStore(arrange);
      const log = await fill(store);
      tamper(store);
      const visited: StoredAuditRecord[] = [];

      // Act
      const result = await log.verify({ visit: (r) => visited.push(r) });

      // Assess: the same result, and every stored record visited once.
      expect(result).toEqual(expected);
      expect(visited).toHaveLength(items);
    }
  });

  it('reports a chain that is registered but has no items as empty, and finds chains missing from the list', async () => {
    // Prepare
    const store = new ScanningStore((e) => e);
    const log = await fill(store);
    await store.registerPartition('repo#never-written');

    // Act
    const result = await log.verify();

    // Assess
    expect(result.emptyPartitions).toEqual(['repo#never-written']);
    expect(result.partitions).toEqual(['global', 'repo#never-written', 'repo#team/app', 'repo#team/db']);
    expect(result.checked).toBe(21);
  });
});
