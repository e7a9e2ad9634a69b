// A worker thread of parallel-audit-scan.ts: reads its Scan segments with the lean client, checks each chain, folds each record into a compliance accumulator, posts the results.
import { parentPort, workerData } from 'node:worker_threads';
import { verifyFromScan } from '../audit/audit-log.ts';
import type { ChainEntry } from '../audit/chain.ts';
import { scanSegments } from '../audit/lean-scan.ts';
import type { RecordFields } from '../audit/types.ts';
import { RawDynamoClient } from '../dynamo/raw-client.ts';
import { ComplianceAccumulator, onlyCounted } from './compliance.ts';
import { BATCH_SIZE, type ScanWorkerBatch, type ScanWorkerInput, type ScanWorkerOutput } from './parallel-audit-scan.ts';

const input = workerData as ScanWorkerInput;

async function run(): Promise<ScanWorkerOutput> {
  const raw = new RawDynamoClient({ endpoint: input.connection.endpoint, region: input.connection.region, credentials: input.connection.credentials, maxAttempts: 10 });
  const c = input.compliance;
  const acc = c ? new ComplianceAccumulator({ since: c.since, until: c.until, protectedEnvironments: c.protectedEnvironments }) : undefined;
  /** The chain each segment is in the middle of: a segment's items come partition by partition. */
  const current = new Map<number, string>();
  async function* pages(): AsyncIterable<readonly ChainEntry[]> {
    // The records `visit` converts (below): the scanner keeps their canonical JSON, which parses faster than the item's wire JSON.
    const keep = c ? (f: RecordFields | undefined): boolean => f === undefined || (f.time >= c.since && f.time < c.until && !onlyCounted(f)) : undefined;
    for await (const page of scanSegments({ raw, tableName: input.tableName, segments: input.segments, totalSegments: input.totalSegments, ...(input.pageSize ? { pageSize: input.pageSize } : {}), ...(keep ? { keep } : {}) })) {
      // The chains this page finishes: every partition the segment moved past, and on its last page the one it ends in.
      const ended: string[] = [];
      let at = current.get(page.segment);
      for (const entry of page.entries) {
        const key = entry.keyPartition ?? (entry.partition as string);
        if (key !== at) {
          if (at !== undefined) ended.push(at);
          at = key;
        }
      }
      if (at !== undefined) current.set(page.segment, at);
      if (page.last && at !== undefined) ended.push(at);
      yield page.entries;
      // Back here once the verifier has visited (and so folded) every entry of the page.
      if (acc && c?.closeChains) {
        for (const p of ended) acc.closeChain(p);
        // Finished runs go to the main thread as the scan goes: their evidence is not held here to the end, and its copy is not one 50 MB message at the end.
        if (acc.finishedSize >= (input.batchSize ?? BATCH_SIZE)) parentPort!.postMessage({ batch: acc.takeFinished() } satisfies ScanWorkerBatch);
      }
    }
  }
  try {
    const visit =
      acc && c
        ? (entry: ChainEntry): void => {
            // A scanned entry's top-level fields say whether the record is only counted: then it is never converted (most of a log).
            const f = entry.fields;
            if (f !== undefined) {
              if (f.time < c.since || f.time >= c.until) return;
              if (onlyCounted(f)) return acc.addCounted(f);
            }
            const r = entry.record;
            if (r.seq !== undefined && r.time >= c.since && r.time < c.until) acc.add(r);
          }
        : undefined;
    const chains = await verifyFromScan(pages(), new Map(input.anchors), visit);
    return { ok: true, chains: [...chains], ...(acc ? { compliance: acc.parts() } : {}) };
  } finally {
    raw.destroy();
  }
}

run().then(
  (out) => parentPort!.postMessage(out),
  (err: unknown) => parentPort!.postMessage({ ok: false, name: (err as Error).name ?? 'Error', message: (err as Error).message ?? String(err) } satisfies ScanWorkerOutput),
);
