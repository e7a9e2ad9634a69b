// Where a verified record's CPU goes: each step of the lean Scan path timed alone, in this process, over real pages of the stand-in table.
//
// The CLI's own CPU per record (GNU time) includes what cannot be timed step by step: garbage collection,
// HTTP, worker threads and V8's helper threads. Timing each step over the same pages in one thread says how
// much of it is the steps themselves, and so how much is left for the rest.
import { entryFromWire } from '../functions/audit/chain.ts';
import type { WireItem } from '../functions/dynamo/attribute-values.ts';
import { decode } from '../functions/dynamo/raw-client.ts';
import { ComplianceAccumulator } from '../functions/reports/compliance.ts';

export interface Phases {
  readonly records: number;
  readonly bytesPerRecord: number;
  /** µs per record of each step, median of `rounds`. */
  readonly decodeUs: number;
  readonly parseUs: number;
  readonly entryUs: number;
  readonly hashUs: number;
  readonly convertUs: number;
  readonly accumulateUs: number;
}

/** Up to `pages` Scan pages of segment 0 of `totalSegments`, as the bytes the table sent. */
async function fetchPages(endpoint: string, totalSegments: number, pages: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let startKey: unknown;
  while (out.length < pages) {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
      body: JSON.stringify({ TableName: 'audit', ConsistentRead: true, Segment: 0, TotalSegments: totalSegments, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    out.push(body);
    startKey = (JSON.parse(body.toString('utf8')) as { LastEvaluatedKey?: unknown }).LastEvaluatedKey;
    if (!startKey) break;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times each step over the same pages, `rounds` times after a warm-up round. */
export async function measurePhases(endpoint: string, totalSegments: number, options: { pages?: number; rounds?: number } = {}): Promise<Phases> {
  const bodies = await fetchPages(endpoint, totalSegments, options.pages ?? 24);
  const texts = bodies.map(decode);
  const items = texts.flatMap((t) => (JSON.parse(t) as { Items: WireItem[] }).Items).filter((i) => !String(i.pk?.S).startsWith('meta#'));
  const records = items.length;
  const time = (step: () => void): number => {
    const t0 = performance.now();
    step();
    return ((performance.now() - t0) * 1000) / records;
  };
  const runs: Record<keyof Omit<Phases, 'records' | 'bytesPerRecord'>, number[]> = { decodeUs: [], parseUs: [], entryUs: [], hashUs: [], convertUs: [], accumulateUs: [] };
  const rounds = options.rounds ?? 5;
  for (let round = 0; round <= rounds; round++) {
    const decodeUs = time(() => void bodies.forEach(decode));
    const parseUs = time(() => void texts.forEach((t) => JSON.parse(t)));
    const entries = items.map(entryFromWire);
    const entryUs = time(() => void items.forEach(entryFromWire));
    const hashUs = time(() => void entries.forEach((e) => e.contentHash()));
    const fresh = items.map(entryFromWire);
    const convertUs = time(() => void fresh.forEach((e) => e.record));
    const acc = new ComplianceAccumulator({ since: '2000-01-01T00:00:00.000Z', until: '2100-01-01T00:00:00.000Z', protectedEnvironments: ['prod'] });
    const accumulateUs = time(() => void fresh.forEach((e) => acc.add(e.record)));
    if (round === 0) continue; // warm-up: the JIT's first pass
    runs.decodeUs.push(decodeUs);
    runs.parseUs.push(parseUs);
    runs.entryUs.push(entryUs);
    runs.hashUs.push(hashUs);
    runs.convertUs.push(convertUs);
    runs.accumulateUs.push(accumulateUs);
  }
  return {
    records,
    // The records' own JSON (the pages also hold head and partition-list items, a few per cent at a million records).
    bytesPerRecord: items.reduce((n, i) => n + JSON.stringify(i).length, 0) / records,
    decodeUs: median(runs.decodeUs),
    parseUs: median(runs.parseUs),
    entryUs: median(runs.entryUs),
    hashUs: median(runs.hashUs),
    convertUs: median(runs.convertUs),
    accumulateUs: median(runs.accumulateUs),
  };
}
