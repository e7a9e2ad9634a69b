// Benchmark stand-in for a large audit table: an HTTP server speaking DynamoDB's JSON protocol for the reads the reports make (Scan, Query on the table and on byActionTime), over pre-marshalled items held in memory.
//
// dynalite writes about 300-400 items/s on this machine, so a million-record table would take close to an
// hour to load; this server holds the same sealed items (bench/reports-data.ts) and answers pages at
// memory speed, so what the benchmark measures is the client: the SDK, pagination, the report model and
// the chain hashing. It is NOT DynamoDB. What it does as DynamoDB does: 1 MB pages counted on the items
// read (before any projection or filter), `Limit`, `ScanIndexForward`, parallel scan segments holding
// whole partitions, the byActionTime key condition on `timeKey` (`>=`, `<`, `BETWEEN`), and a
// ProjectionExpression of top-level attributes (only those attributes are returned; a nested path is
// refused). What it does not: other filter expressions (a Scan's `attribute_exists(seq)` only skips the
// meta items), other indexes, and real `LastEvaluatedKey`s (its cursor is a position).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { marshall } from '@aws-sdk/util-dynamodb';
import { AUDIT_INDEXES, AUDIT_KEYS } from '../functions/dynamo/tables.ts';
import { auditChains } from './reports-data.ts';

/** DynamoDB returns at most 1 MB of items per page. */
const PAGE_BYTES = 1024 * 1024;

interface Row {
  readonly pk: string;
  /** The whole item in DynamoDB JSON: `{"name":{"S":"…"},…}`. */
  readonly json: string;
  readonly meta: boolean;
  /** Its attribute names, in `json` order (shared by every item with the same names). */
  readonly shape: Shape;
  /** Where the starts of its attributes' `"name":value` pieces are in `starts` (one per name of the shape). */
  readonly at: number;
}

interface Shape {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Projection (the resolved names, joined) → the attribute positions it keeps. */
  readonly picks: Map<string, readonly number[]>;
}

/** `rows[from..to)`: a range of a list without copying it (an action's list holds up to ~450k rows). */
interface Rows {
  readonly rows: readonly Row[];
  readonly from: number;
  readonly to: number;
}

/** A ValidationException answer, as DynamoDB gives for an expression it cannot use. */
class Invalid extends Error {}

/** Start offsets of every item's attribute pieces, all items in one growing buffer (a million items × ~20 attributes). */
class Offsets {
  private buf = new Int32Array(1 << 20);
  length = 0;
  push(n: number): void {
    if (this.length === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = n;
  }
  get(i: number): number {
    return this.buf[i]!;
  }
}

export interface SyntheticTable {
  readonly endpoint: string;
  /** Items held (records, head items, partition list). */
  readonly items: number;
  /** Requests answered, by operation. */
  readonly requests: Record<string, number>;
  /** Query answers served from the cache (rendered by an earlier, identical request). */
  readonly cachedQueries: () => number;
  stop(): Promise<void>;
}

/**
 * Builds every sealed item of a `total`-record log and serves it. `prerenderSegments`: for a
 * parallel Scan of that many segments (no Limit, no filter, no projection), every page body is
 * rendered once here, before anything is measured, and served as is: DynamoDB's own CPU is not on
 * the user's machine, so the stand-in should not take the CPU of the two cores the CLI runs on.
 */
export async function startSyntheticAuditTable(total: number, repositories: number, prerenderSegments: readonly number[] = []): Promise<SyntheticTable> {
  const heads: Row[] = [];
  const registry: Row[] = [];
  const chains: Row[] = [];
  const partitions = new Map<string, Row[]>();
  const byAction = new Map<string, { key: string; row: Row }[]>();
  const starts = new Offsets();
  const shapes = new Map<string, Shape>();
  const row = (item: Record<string, unknown>, meta: boolean): Row => {
    const wire = marshall(item, { removeUndefinedValues: true });
    const names = Object.keys(wire);
    const signature = names.join('\u0000');
    let shape = shapes.get(signature);
    if (!shape) shapes.set(signature, (shape = { names, index: new Map(names.map((n, i) => [n, i])), picks: new Map() }));
    const at = starts.length;
    // Pieces joined once: a flat string (building it with += leaves a rope that every slice would flatten again).
    const pieces = names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(wire[n])}`);
    let offset = 1;
    for (const piece of pieces) {
      starts.push(offset);
      offset += piece.length + 1;
    }
    return { pk: String(item[AUDIT_KEYS.partitionKey]), json: `{${pieces.join(',')}}`, meta, shape, at };
  };
  /** The item with only the projected attributes, cut from its JSON (piece i ends where piece i + 1 starts, less the comma). */
  const projected = (r: Row, projection: readonly string[], key: string): string => {
    let picks = r.shape.picks.get(key);
    if (!picks) r.shape.picks.set(key, (picks = projection.map((n) => r.shape.index.get(n)).filter((i): i is number => i !== undefined)));
    const last = r.shape.names.length - 1;
    let out = '{';
    for (let k = 0; k < picks.length; k++) {
      const i = picks[k]!;
      out += (k > 0 ? ',' : '') + r.json.slice(starts.get(r.at + i), i === last ? r.json.length - 1 : starts.get(r.at + i + 1) - 1);
    }
    return out + '}';
  };
  /** `a, #b` → the attribute names, as DynamoDB resolves them. */
  const projectionOf = (input: Record<string, unknown>): string[] | undefined => {
    if (input.ProjectionExpression === undefined) return undefined;
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    return String(input.ProjectionExpression)
      .split(',')
      .map((p) => p.trim())
      .map((p) => {
        if (!/^#?[A-Za-z0-9_]+$/.test(p)) throw new Invalid(`synthetic table: projection path ${p} is not served (top-level attributes only)`);
        if (!p.startsWith('#')) return p;
        const n = names[p];
        if (n === undefined) throw new Invalid(`An expression attribute name used in the document path is not defined; attribute name: ${p}`);
        return n;
      });
  };
  for (const c of auditChains(total, repositories)) {
    heads.push(row(c.head, true));
    registry.push(row(c.registration, true));
    const rows = c.records.map((item) => {
      const r = row(item, false);
      const action = String(item.action);
      const list = byAction.get(action) ?? [];
      list.push({ key: String(item[AUDIT_KEYS.timeKey]), row: r });
      byAction.set(action, list);
      return r;
    });
    partitions.set(c.partition, rows);
    chains.push(...rows);
  }
  for (const list of byAction.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // DynamoDB keeps a partition's items in sort-key order; a meta item's sort key is its chain's partition name, and chain order is not name order.
  const chainNames = [...partitions.keys()];
  for (const meta of [heads, registry]) {
    const byName = meta.map((r, i) => [chainNames[i]!, r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    byName.forEach(([, r], i) => (meta[i] = r));
  }
  const actionRows = new Map([...byAction].map(([k, v]) => [k, { keys: v.map((x) => x.key), rows: v.map((x) => x.row) }]));
  /** First index whose key is >= `key` (the list is sorted). */
  const lowerBound = (keys: readonly string[], key: string): number => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** The byActionTime rows the key condition's `timeKey` bound selects (`#k = :k` alone: all of the action's rows). */
  const actionRange = (input: Record<string, unknown>, action: string): Rows => {
    const list = actionRows.get(action);
    if (!list) return { rows: [], from: 0, to: 0 };
    const cond = String(input.KeyConditionExpression ?? '');
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, { S?: string }>;
    const v = (name: string): string => {
      const s = values[name]?.S;
      if (s === undefined) throw new Invalid(`synthetic table: ${name} is not a string value`);
      return s;
    };
    const sort = /AND\s+(#?\w+)\s+(>=|<|BETWEEN)\s+(:\w+)(?:\s+AND\s+(:\w+))?\s*$/.exec(cond);
    if (!sort) {
      if (/\bAND\b/.test(cond)) throw new Invalid(`synthetic table: key condition ${cond} is not served`);
      return { rows: list.rows, from: 0, to: list.rows.length };
    }
    const [, , op, a, b] = sort;
    // timeKey is `<iso>#<partition>#<seq>`; BETWEEN is inclusive at both ends, as in DynamoDB.
    let from = 0;
    let to = list.rows.length;
    if (op === '>=') from = lowerBound(list.keys, v(a!));
    else if (op === '<') to = lowerBound(list.keys, v(a!));
    else {
      from = lowerBound(list.keys, v(a!));
      const upper = v(b!);
      to = lowerBound(list.keys, upper);
      while (to < list.keys.length && list.keys[to] === upper) to++;
    }
    return { rows: list.rows, from, to: Math.max(from, to) };
  };
  partitions.set('meta#heads', heads);
  partitions.set('meta#partitions', registry);
  const scanOrder = [...heads, ...registry, ...chains];
  const requests: Record<string, number> = {};
  // Parallel scan: like DynamoDB, a segment holds whole partitions (here chain i goes to segment i mod n).
  const chainLists = [...partitions].filter(([pk]) => !pk.startsWith('meta#')).map(([, rows]) => rows);
  const segmentCache = new Map<string, readonly Row[]>();
  const segmentRows = (input: Record<string, unknown>): readonly Row[] => {
    const total = typeof input.TotalSegments === 'number' ? input.TotalSegments : 1;
    if (total === 1) return scanOrder;
    const segment = Number(input.Segment);
    const key = `${segment}/${total}`;
    let rows = segmentCache.get(key);
    if (!rows) {
      rows = [...(segment === 0 ? [...heads, ...registry] : []), ...chainLists.filter((_, i) => i % total === segment).flat()];
      segmentCache.set(key, rows);
    }
    return rows;
  };

  const page = ({ rows, from, to }: Rows, input: Record<string, unknown>, options: { onlyRecords?: boolean; reverse?: boolean }) => {
    const length = to - from;
    const projection = projectionOf(input);
    const projectionKey = projection?.join('\u0000') ?? '';
    const start = Number((input.ExclusiveStartKey as { pos?: { N: string } } | undefined)?.pos?.N ?? 0);
    const limit = typeof input.Limit === 'number' ? input.Limit : Infinity;
    const out: string[] = [];
    let bytes = 0;
    let scanned = 0;
    let pos = start;
    while (pos < length && scanned < limit && bytes < PAGE_BYTES) {
      const r = rows[options.reverse ? to - 1 - pos : from + pos]!;
      pos += 1;
      scanned += 1;
      bytes += r.json.length;
      if (options.onlyRecords && r.meta) continue;
      out.push(projection ? projected(r, projection, projectionKey) : r.json);
    }
    // A page that stopped at its Limit has a LastEvaluatedKey even when nothing follows, as in DynamoDB (the next page is empty).
    const cut = pos < length || scanned === limit;
    const more = cut ? `,"LastEvaluatedKey":{"${AUDIT_KEYS.partitionKey}":{"S":"cursor"},"${AUDIT_KEYS.sortKey}":{"S":"cursor"},"pos":{"N":"${pos}"}}` : '';
    return { body: `{"Items":[${out.join(',')}],"Count":${out.length},"ScannedCount":${scanned}${more}}`, next: cut ? pos : undefined };
  };

  const all = (rows: readonly Row[]): Rows => ({ rows, from: 0, to: rows.length });
  const rendered = new Map<string, Buffer>();
  for (const totalSegments of prerenderSegments) {
    for (let segment = 0; segment < totalSegments; segment += 1) {
      const input: Record<string, unknown> = { Segment: segment, TotalSegments: totalSegments };
      for (let start = 0; ; ) {
        const { body, next } = page(all(segmentRows(input)), input, {});
        rendered.set(`${segment}/${totalSegments}@${start}`, Buffer.from(body));
        if (next === undefined) break;
        input.ExclusiveStartKey = { pos: { N: String(next) } };
        start = next;
      }
    }
  }
  const prerendered = (target: string, input: Record<string, unknown>): Buffer | undefined => {
    if (target !== 'Scan' || rendered.size === 0 || input.Limit !== undefined || input.FilterExpression !== undefined || input.ProjectionExpression !== undefined) return undefined;
    const start = Number((input.ExclusiveStartKey as { pos?: { N: string } } | undefined)?.pos?.N ?? 0);
    return rendered.get(`${Number(input.Segment ?? 0)}/${Number(input.TotalSegments ?? 1)}@${start}`);
  };

  const answer = (target: string, input: Record<string, unknown>): string | Buffer => {
    const ready = prerendered(target, input);
    if (ready) return ready;
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, { S?: string }>;
    if (target === 'Scan') {
      return page(all(segmentRows(input)), input, { onlyRecords: String(input.FilterExpression ?? '').includes('attribute_exists') }).body;
    }
    if (target === 'Query') {
      const key = values[':pk']?.S ?? values[':k']?.S ?? '';
      if (input.IndexName === AUDIT_INDEXES.byActionTime) return page(actionRange(input, key), input, { reverse: input.ScanIndexForward === false }).body;
      if (input.IndexName !== undefined) throw new Invalid(`synthetic table: index ${String(input.IndexName)} is not served`);
      return page(all(partitions.get(key) ?? []), input, { reverse: input.ScanIndexForward === false }).body;
    }
    throw new Invalid(`synthetic table: ${target} is not served`);
  };

  const body = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  // Every Query answer is kept, keyed by its request text (the cursor is in the request), so a warm-up run
  // renders each page once and the measured run is served as the Scan pages are: the projection slicing is
  // the table's CPU, which DynamoDB spends on its own servers, not on the two cores the CLI runs on.
  const queryAnswers = new Map<string, string | Buffer>();
  let cachedQueries = 0;
  const server: Server = createServer((req, res) => {
    void body(req).then((text) => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      requests[target] = (requests[target] ?? 0) + 1;
      try {
        const cached = target === 'Query' ? queryAnswers.get(text) : undefined;
        if (cached !== undefined) cachedQueries += 1;
        const out = cached ?? answer(target, JSON.parse(text) as Record<string, unknown>);
        if (target === 'Query' && cached === undefined) queryAnswers.set(text, Buffer.from(out));
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(out);
      } catch (err) {
        if (!(err instanceof Invalid)) process.stderr.write(`synthetic table: ${(err as Error).stack}\n`);
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    items: scanOrder.length,
    requests,
    cachedQueries: () => cachedQueries,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
