// The page scanner reads Scan pages as text and gives, item by item, what JSON.parse and entryFromWire give; a page it cannot read the ordinary way goes that way.
import { isAscii } from 'node:buffer';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { entryFromWire, sealRecord, toItem, type ChainEntry } from '../../../functions/audit/chain.ts';
import { AuditPageScanner, nonAsciiRuns } from '../../../functions/audit/page-scanner.ts';
import type { AuditRecord } from '../../../functions/audit/types.ts';
import type { WireItem } from '../../../functions/dynamo/attribute-values.ts';
import { randomItems } from '../../helpers/wire-items.ts';

/** A Scan answer as DynamoDB writes it. */
function pageText(items: readonly WireItem[], lastEvaluatedKey?: WireItem, escapeNonAscii = false): string {
  const text = JSON.stringify({ Items: items, Count: items.length, ScannedCount: items.length, ...(lastEvaluatedKey ? { LastEvaluatedKey: lastEvaluatedKey } : {}) });
  // A server may escape every non-ASCII character; the JSON (and so every result) is the same.
  return escapeNonAscii ? text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

/** What the old path makes of the page's items, field by field, to compare with. */
function view(e: ChainEntry): unknown {
  let hash: string;
  try {
    hash = e.contentHash();
  } catch (err) {
    hash = `error: ${(err as Error).message}`;
  }
  return { keySeq: e.keySeq, keyMismatch: e.keyMismatch, keyPartition: e.keyPartition, partition: e.partition, hash: e.hash, prevHash: e.prevHash, content: hash, record: e.record };
}

/**
 * Scans `text` as the lean client reads a page, from its UTF-8 bytes: as latin1 text, with the bytes
 * when they are not all ASCII (`asString`: the text itself, as a caller with a decoded page would).
 */
function expectSameAsParsing(text: string, asString = false, scanner = new AuditPageScanner()): { regular: number } {
  const body = Buffer.from(text, 'utf8');
  const ascii = isAscii(body);
  const page = asString ? text : body.toString('latin1');
  const bytes = asString || ascii ? undefined : body;
  const scanned = scanner.scan(page, bytes);
  expect(scanned).toBeDefined();
  const items = (JSON.parse(text) as { Items: WireItem[] }).Items;
  expect(scanned!.items).toHaveLength(items.length);
  let regular = 0;
  scanned!.items.forEach((item, i) => {
    expect(view(item.entry())).toEqual(view(entryFromWire(items[i]!)));
    if (item.regular) regular += 1;
  });
  return { regular };
}

function sealed(n: number, partition = 'repo#team/app'): WireItem[] {
  let prev = '0'.repeat(64);
  return Array.from({ length: n }, (_, i) => {
    const record: AuditRecord = {
      time: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
      actor: i % 3 ? 'event:aws.ecr' : 'cli:ana "the admin"',
      action: i % 2 ? 'replicate' : 'promote.approval',
      outcome: i % 5 ? 'success' : 'failure',
      correlationId: `c-${i}`,
      repository: 'team/app',
      digest: `sha256:${String(i).padStart(64, '0')}`,
      tags: ['v1', 'é'],
      bytes: 1000 + i,
      details: { blobs: { uploaded: 3, skipped: 0 }, comment: 'line\nbreak \\ and "quotes"', ratio: 0.25, none: null, ok: true, list: [] },
    } as AuditRecord;
    const stored = sealRecord(record, partition, i + 1, prev);
    prev = stored.hash;
    return marshall(toItem(stored), { removeUndefinedValues: true }) as WireItem;
  });
}

describe('nonAsciiRuns', () => {
  it('finds every maximal run of bytes >= 0x80, across the halving boundaries', () => {
    const body = Buffer.concat([Buffer.from('é'), Buffer.from('x'.repeat(511)), Buffer.from('…😀'), Buffer.from('y'.repeat(3000)), Buffer.from([0xff])]);
    expect(nonAsciiRuns(body)).toEqual([[0, 2], [513, 520], [3520, 3521]]);
    expect(nonAsciiRuns(Buffer.from('plain'))).toEqual([]);
  });
});

describe('AuditPageScanner', () => {
  it('gives what JSON.parse and entryFromWire give for sealed records, every item the fast way', () => {
    const items = sealed(50);
    const { regular } = expectSameAsParsing(pageText(items));
    // Only the records with a non-ASCII key attribute would go the converting way: none here ('é' is in tags).
    expect(regular).toBe(50);
    // The entries' hashes are the stored ones: the chain checks pass.
    const text = pageText(items);
    for (const item of new AuditPageScanner().scan(text)!.items) expect(item.entry().contentHash()).toBe(item.hash);
  });

  it('gives the same for 2,000 seeded items of every JSON type, and with every non-ASCII character escaped', () => {
    const items = [...randomItems(2000)];
    for (let i = 0; i < items.length; i += 200) {
      expectSameAsParsing(pageText(items.slice(i, i + 200)));
      expectSameAsParsing(pageText(items.slice(i, i + 200)), true);
      expectSameAsParsing(pageText(items.slice(i, i + 200), undefined, true));
    }
  });

  it('gives the same records from the canonical JSON it keeps as from the wire JSON', () => {
    // Every item kept: its record is parsed from the canonical bytes the hash covers, with `hash` added.
    const keepAll = (): AuditPageScanner => new AuditPageScanner({ keep: () => true });
    expectSameAsParsing(pageText(sealed(50)), false, keepAll());
    const items = [...randomItems(1000)];
    for (let i = 0; i < items.length; i += 200) {
      expectSameAsParsing(pageText(items.slice(i, i + 200)), false, keepAll());
      expectSameAsParsing(pageText(items.slice(i, i + 200), undefined, true), false, keepAll());
    }
    // Only the items `keep` asks for: the others' records come the wire way, and are the same too.
    const seen: (string | undefined)[] = [];
    const some = new AuditPageScanner({ keep: (f) => (seen.push(f?.action), f?.action === 'replicate') });
    expectSameAsParsing(pageText(sealed(20)), false, some);
    // Asked once an item; the items whose actor has an escape have no fields (i % 3 === 0), the others' odd ones replicate.
    expect(seen).toHaveLength(20);
    expect(seen.filter((a) => a === undefined)).toHaveLength(7);
    expect(seen.filter((a) => a === 'replicate')).toHaveLength(7);
  });

  it('checks the keys of a regular item on the page, and says what differs as keysOf does', () => {
    const [a, b, c, d] = sealed(4);
    const odd = [
      { ...a!, sk: { S: '000000000009' } },
      { ...b!, sk: { S: '2' } },
      { ...c!, pk: { S: 'repo#team/other' } },
      { ...c!, timeKey: { S: `${c!.time!.S}#repo#team/app#000000000004` } },
      { ...d!, timeKey: { S: `${d!.time!.S}#repo#team/ap#000000000004` } },
      { ...d!, timeKey: { S: `${d!.time!.S}xrepo#team/app#000000000004` } },
      { ...d!, seq: { N: '0004' } },
      { ...d!, seq: { N: '4' }, sk: { S: '000000000004' } },
      { ...a!, seq: { N: '1000000000000' }, sk: { S: '1000000000000' } },
      { ...a!, pk: undefined },
      { ...b!, timeKey: undefined },
    ].map((i) => JSON.parse(JSON.stringify(i)) as WireItem);
    const text = pageText(odd);
    const page = new AuditPageScanner().scan(text)!;
    expect(page.items.every((i) => i.regular)).toBe(true);
    expectSameAsParsing(text);
    expect(page.items.map((i) => i.keyMismatch === undefined)).toEqual([false, false, false, false, false, false, true, true, false, false, false]);
    expect(page.items[2]!.keyPartition).toBe('repo#team/other');
  });

  it('reads the cursor and skips the counts and capacity, in any member order', () => {
    const items = sealed(3);
    const key = { pk: { S: 'repo#team/app' }, sk: { S: '000000000003' } };
    const text = JSON.stringify({ ConsumedCapacity: { TableName: 'audit', CapacityUnits: 1.5, Table: { CapacityUnits: 1.5 } }, Count: 3, LastEvaluatedKey: key, Items: items, ScannedCount: 3 });
    const page = new AuditPageScanner().scan(text)!;
    expect(page.lastEvaluatedKey).toEqual(key);
    expect(page.items.map((i) => i.seq)).toEqual([1, 2, 3]);
    expect(new AuditPageScanner().scan('{"Items":[],"Count":0,"ScannedCount":0}')).toEqual({ items: [], lastEvaluatedKey: undefined });
  });

  it('gives the record fields counting reads, and none when one is not a plain string', () => {
    const [item] = sealed(2).slice(1);
    const page = new AuditPageScanner().scan(pageText([item!]))!;
    expect(page.items[0]!.fields).toEqual({ time: '2026-11-01T00:00:01.000Z', seq: 2, action: 'replicate', outcome: 'success', actor: 'event:aws.ecr', repository: 'team/app' });
    // 'cli:ana "the admin"' has an escape: the accumulator gets the converted record instead.
    expect(new AuditPageScanner().scan(pageText(sealed(1)))!.items[0]!.fields).toBeUndefined();
    expect(new AuditPageScanner().scan(pageText([{ ...item!, action: { N: '1' } }]))!.items[0]!.fields).toBeUndefined();
  });

  it('sends an item whose key attributes have unusual types the converting way, with the same checks', () => {
    const [a, b, c] = sealed(3);
    const odd = [
      { ...a!, seq: { S: '1' } },
      { ...b!, partition: { N: '7' } },
      { ...c!, pk: { S: 'repo#\\"escaped' } },
      { ...c!, timeKey: { BOOL: true } },
    ] as WireItem[];
    const text = pageText(odd);
    const page = new AuditPageScanner().scan(text)!;
    expect(page.items.map((i) => i.regular)).toEqual([false, false, false, false]);
    expectSameAsParsing(text);
  });

  it('gives up on pages only JSON.parse reads: whitespace, sets, binary, unsafe numbers, duplicate names, broken text', () => {
    const a = sealed(2)[1];
    const ok = pageText([a!]);
    const cases = [
      JSON.stringify({ Items: [a] }, null, 1),
      pageText([{ ...a!, extra: { SS: ['x'] } }]),
      pageText([{ ...a!, extra: { NS: ['1'] } }]),
      pageText([{ ...a!, extra: { B: 'AAE=' } }]),
      pageText([{ ...a!, extra: { BS: ['AAE='] } }]),
      pageText([{ ...a!, extra: { N: '9007199254740993' } }]),
      pageText([{ ...a!, extra: { N: '1e400' } }]),
      pageText([{ ...a!, extra: {} }]),
      ok.replace('"bytes":', '"actor":{"S":"x"},"bytes":'),
      ok.replace('{"M":{"uploaded"', '{"M":{"skipped":{"N":"1"},"uploaded"'),
      ok.slice(0, -10),
      `${ok} `,
      ok.replace('"S":"replicate"', '"S":"replicate","N":"1"'),
    ];
    for (const text of cases) {
      expect(text).not.toBe(ok);
      expect(new AuditPageScanner().scan(text), text.slice(0, 80)).toBeUndefined();
    }
    // The scanner is not left in a bad state by them.
    expect(new AuditPageScanner().scan(ok)?.items).toHaveLength(1);
  });

  it('stays right past its bound on remembered names (ever-new names)', () => {
    const scanner = new AuditPageScanner();
    for (let batch = 0; batch < 10; batch++) {
      const items = Array.from({ length: 1000 }, (_, i) => ({ pk: { S: 'p' }, sk: { S: String(i) }, [`k${batch}-${i}`]: { N: String(i) }, m: { M: { [`n${batch}-${i}`]: { S: 'v' } } } }) as WireItem);
      const text = pageText(items);
      const page = scanner.scan(text)!;
      page.items.forEach((item, i) => expect(item.entry().contentHash()).toBe(entryFromWire(items[i]!).contentHash()));
    }
  });
});
