// Where a verified record's CPU goes: each step of the lean Scan path timed alone, in this process, over real pages of the stand-in table.
//
// The CLI's own CPU per record (GNU time) includes what cannot be timed step by step: garbage collection,
// HTTP, worker threads and V8's helper threads. Timing each step over the same pages in one thread says how
// much of it is the steps themselves, and so how much is left for the rest.
import { isAscii } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AuditPageScanner, nonAsciiRuns, type ScannedPage } from '../functions/audit/page-scanner.ts';
import { ComplianceAccumulator, onlyCounted } from '../functions/reports/compliance.ts';

export interface Phases {
  readonly records: number;
  readonly bytesPerRecord: number;
  /** Share of the records the compliance accumulator needs converted (promotion runs, security events). */
  readonly convertedShare: number;
  /** µs per record of each step, median of `rounds`. */
  readonly decodeUs: number;
  /** The scanner: key fields, canonical JSON (as bytes) and its sha256. */
  readonly scanUs: number;
  readonly entryUs: number;
  /** Converting the records that need it (JSON.parse of the item and conversion), per record of all. */
  readonly convertUs: number;
  readonly accumulateUs: number;
  /** For comparison: JSON.parse of the same pages, the first step of the path before the scanner. */
  readonly jsonParseUs: number;
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

const isMeta = (pk: string | undefined): boolean => pk?.startsWith('meta#') === true;

/** Times each step over the same pages, `rounds` times after a warm-up round. */
export async function measurePhases(endpoint: string, totalSegments: number, options: { pages?: number; rounds?: number } = {}): Promise<Phases> {
  const bodies = await fetchPages(endpoint, totalSegments, options.pages ?? 24);
  // As the lean reader reads them (lean-scan.ts): latin1 text, and the runs of non-ASCII bytes (the scanner finds them itself).
  const decode = (b: Buffer): { text: string; body: Buffer } => {
    if (!isAscii(b)) nonAsciiRuns(b);
    return { text: b.toString('latin1'), body: b };
  };
  const decoded = bodies.map(decode);
  const scanner = new AuditPageScanner();
  const scanAll = (): ScannedPage[] => decoded.map(({ text, body }) => scanner.scan(text, body)!);
  const scanned = scanAll();
  const records = scanned.reduce((n, p) => n + p.items.filter((i) => !isMeta(i.pk)).length, 0);
  const entriesOf = () => scanned.flatMap((p) => p.items.filter((i) => !isMeta(i.pk)).map((i) => i.entry()));
  const time = (step: () => void): number => {
    const t0 = performance.now();
    step();
    return ((performance.now() - t0) * 1000) / records;
  };
  const keys = ['decodeUs', 'scanUs', 'entryUs', 'convertUs', 'accumulateUs', 'jsonParseUs'] as const;
  const runs = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<(typeof keys)[number], number[]>;
  const rounds = options.rounds ?? 5;
  let converted = 0;
  for (let round = 0; round <= rounds; round++) {
    const decodeUs = time(() => void bodies.forEach(decode));
    // Each page's result dropped before the next, as the reader does (holding them all makes the collector's work the scanner's).
    const scanUs = time(() => void decoded.forEach(({ text, body }) => scanner.scan(text, body)));
    const entryUs = time(() => void entriesOf());
    // Freshly scanned: a scanned item is its own entry and keeps its converted record, so the last round's are converted already.
    const entries = scanAll().flatMap((p) => p.items.filter((i) => !isMeta(i.pk)).map((i) => i.entry()));
    const needed = entries.filter((e) => !(e.fields && onlyCounted(e.fields)));
    converted = needed.length;
    const convertUs = time(() => void needed.forEach((e) => e.record));
    const acc = new ComplianceAccumulator({ since: '2000-01-01T00:00:00.000Z', until: '2100-01-01T00:00:00.000Z', protectedEnvironments: ['prod'] });
    const accumulateUs = time(() => void entries.forEach((e) => (e.fields && onlyCounted(e.fields) ? acc.addCounted(e.fields) : acc.add(e.record))));
    const texts = bodies.map((b) => b.toString('utf8'));
    const jsonParseUs = time(() => void texts.forEach((t) => JSON.parse(t)));
    if (round === 0) continue; // warm-up: the JIT's first pass
    const got = { decodeUs, scanUs, entryUs, convertUs, accumulateUs, jsonParseUs };
    for (const k of keys) runs[k].push(got[k]);
  }
  return {
    records,
    // The records' own JSON (the pages also hold head and partition-list items, a few per cent at a million records).
    bytesPerRecord: scanned.reduce((n, p) => n + p.items.filter((i) => !isMeta(i.pk)).reduce((m, i) => m + i.end - i.start, 0), 0) / records,
    convertedShare: converted / records,
    ...(Object.fromEntries(keys.map((k) => [k, median(runs[k])])) as Record<(typeof keys)[number], number>),
  };
}

// As a child of bench/reports.ts: timed in a process of its own, away from the stand-in's heap of a million items,
// whose collections would otherwise be charged to the steps. Prints the Phases as JSON.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { endpoint: { type: 'string' }, segments: { type: 'string', default: '4' } } });
  if (!values.endpoint) throw new Error('usage: reports-phases.ts --endpoint URL [--segments N]');
  process.stdout.write(`${JSON.stringify(await measurePhases(values.endpoint, Number(values.segments)))}\n`);
}
