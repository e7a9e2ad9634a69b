// Benchmark stand-in for a large audit table: an HTTP server speaking DynamoDB's JSON protocol for the reads the reports make (Scan, Query on the table and on byActionTime), over pre-marshalled items held in memory.
//
// dynalite writes about 300-400 items/s on this machine, so a million-record table would take close to an
// hour to load; this server holds the same sealed items (bench/reports-data.ts) and answers pages at
// memory speed, so what the benchmark measures is the client: the SDK, pagination, the report model and
// the chain hashing. It is NOT DynamoDB: it ignores time filters (every generated record is inside the
// benchmark's period) and returns index pages in time order from a pre-sorted list.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { marshall } from '@aws-sdk/util-dynamodb';
import { AUDIT_INDEXES, AUDIT_KEYS } from '../functions/dynamo/tables.ts';
import { auditChains } from './reports-data.ts';

/** DynamoDB returns at most 1 MB of items per page. */
const PAGE_BYTES = 1024 * 1024;

interface Row {
  readonly pk: string;
  readonly json: string;
  readonly meta: boolean;
}

export interface SyntheticTable {
  readonly endpoint: string;
  /** Items held (records, head items, partition list). */
  readonly items: number;
  /** Requests answered, by operation. */
  readonly requests: Record<string, number>;
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
  const row = (item: Record<string, unknown>, meta: boolean): Row => ({ pk: String(item[AUDIT_KEYS.partitionKey]), json: JSON.stringify(marshall(item, { removeUndefinedValues: true })), meta });
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
  const actionRows = new Map([...byAction].map(([k, v]) => [k, v.map((x) => x.row)]));
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

  const page = (rows: readonly Row[], input: Record<string, unknown>, options: { onlyRecords?: boolean; pkOnly?: boolean; reverse?: boolean }) => {
    const start = Number((input.ExclusiveStartKey as { pos?: { N: string } } | undefined)?.pos?.N ?? 0);
    const limit = typeof input.Limit === 'number' ? input.Limit : Infinity;
    const out: string[] = [];
    let bytes = 0;
    let scanned = 0;
    let pos = start;
    while (pos < rows.length && scanned < limit && bytes < PAGE_BYTES) {
      const r = rows[options.reverse ? rows.length - 1 - pos : pos]!;
      pos += 1;
      scanned += 1;
      bytes += r.json.length;
      if (options.onlyRecords && r.meta) continue;
      out.push(options.pkOnly ? `{"${AUDIT_KEYS.partitionKey}":{"S":${JSON.stringify(r.pk)}}}` : r.json);
    }
    const more = pos < rows.length ? `,"LastEvaluatedKey":{"${AUDIT_KEYS.partitionKey}":{"S":"cursor"},"${AUDIT_KEYS.sortKey}":{"S":"cursor"},"pos":{"N":"${pos}"}}` : '';
    return { body: `{"Items":[${out.join(',')}],"Count":${out.length},"ScannedCount":${scanned}${more}}`, next: pos < rows.length ? pos : undefined };
  };

  const rendered = new Map<string, Buffer>();
  for (const totalSegments of prerenderSegments) {
    for (let segment = 0; segment < totalSegments; segment += 1) {
      const input: Record<string, unknown> = { Segment: segment, TotalSegments: totalSegments };
      for (let start = 0; ; ) {
        const { body, next } = page(segmentRows(input), input, {});
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
      return page(segmentRows(input), input, { onlyRecords: String(input.FilterExpression ?? '').includes('attribute_exists'), pkOnly: input.ProjectionExpression !== undefined }).body;
    }
    if (target === 'Query') {
      const key = values[':pk']?.S ?? values[':k']?.S ?? '';
      if (input.IndexName === AUDIT_INDEXES.byActionTime) return page(actionRows.get(key) ?? [], input, { reverse: input.ScanIndexForward === false }).body;
      if (input.IndexName !== undefined) throw new Error(`synthetic table: index ${String(input.IndexName)} is not served`);
      return page(partitions.get(key) ?? [], input, { reverse: input.ScanIndexForward === false }).body;
    }
    throw new Error(`synthetic table: ${target} is not served`);
  };

  const body = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer((req, res) => {
    void body(req).then((text) => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      requests[target] = (requests[target] ?? 0) + 1;
      try {
        const out = answer(target, JSON.parse(text) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(out);
      } catch (err) {
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
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
