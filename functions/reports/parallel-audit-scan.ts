// The whole audit table read by worker threads: each reads its own Scan segments, checks those chains and runs the compliance accumulator over them; this thread merges.
//
// One thread spent ~55 µs of CPU per record (docs/BENCHMARKS.md, "Reports over a large audit log"):
// JSON parse, conversion, canonical JSON and sha256 of a million records. A parallel Scan's segment
// holds whole partitions, so a whole chain is read, checked and folded by one worker, and the
// results (per-chain results, compliance counters, evidence, security events) merge without
// another pass. Workers get the connection as plain data (endpoint, region, credentials resolved
// here) and build their own lean client (functions/dynamo/raw-client.ts).
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ChainResult } from '../audit/chain.ts';
import type { AuditHead } from '../audit/types.ts';
import type { RawDynamoClient } from '../dynamo/raw-client.ts';
import type { ComplianceParts } from './compliance.ts';
import { StringPool, shareStrings } from './shared-strings.ts';

export interface ParallelScanSource {
  readonly raw: RawDynamoClient;
  readonly tableName: string;
  /** Worker threads (default: the machine's parallelism, at most 4). */
  readonly workers?: number;
  /** Scan segments per worker (default 2: one page downloads while the other is checked). */
  readonly segmentsPerWorker?: number;
  /** DynamoDB `Limit` per page (tests). */
  readonly pageSize?: number;
  /** Old-generation limit of each worker, MiB (default WORKER_HEAP_MB; tests set a tiny one to see the failover). */
  readonly workerHeapMb?: number;
  /** Called when a worker ran out of its heap limit and its segments are read again without one. */
  readonly onRetry?: (message: string) => void;
  /** Finished runs and security events a worker holds before sending them (default BATCH_SIZE; tests send each at once). */
  readonly batchSize?: number;
}

/**
 * Old-generation limit of each worker, in MiB. A worker's live data at a million records is about 90 MB
 * (its chains and the compliance evidence it holds until their chains end), but without a limit V8 let
 * each worker's heap grow to about 300 MB between full collections (the 1 MB pages are large objects,
 * freed only by one), and two workers and the main thread went past 800 MiB. With a limit V8 collects
 * sooner. A worker that truly needs more dies with ERR_WORKER_OUT_OF_MEMORY, and its segments are read
 * again by a worker without the limit: slower, never wrong (the scan only reads).
 */
export const WORKER_HEAP_MB = 256;

/**
 * Initial old-generation size of each worker, in MiB: V8's flag, set before the workers start, since
 * `resourceLimits` has no initial size. Without it V8 sized a worker's old generation from its small
 * live data (~20 MB) and kept it ~40 MB, and a cycle followed: each full collection moved the pages'
 * items then alive from the young generation into the old one, where they died at once and brought on
 * the next full collection (about 100 of them a worker at a million records, with marking under way
 * most of the time, which slows every write). With room to grow the worker runs most of its time
 * without marking: about 12% less CPU for `report compliance`, for about 45 MiB more peak RSS (two
 * workers; docs/BENCHMARKS.md, Reports). The flag is process-wide and read when an isolate is made:
 * the CLI makes no other isolate afterwards.
 */
export const WORKER_INITIAL_HEAP_MB = 64;

/** What each worker folds besides the chains: the compliance report's period and environments. */
export interface ParallelCompliance {
  readonly since: string;
  readonly until: string;
  readonly protectedEnvironments: readonly string[];
  /** Finish each run when its chain has been read (ComplianceAccumulator.closeChain); false holds every run to the end. */
  readonly closeChains: boolean;
}

/** A worker's input (workerData). */
export interface ScanWorkerInput {
  readonly connection: Awaited<ReturnType<RawDynamoClient['connection']>>;
  readonly tableName: string;
  readonly segments: readonly number[];
  readonly totalSegments: number;
  readonly pageSize?: number;
  readonly anchors: [string, AuditHead[]][];
  readonly compliance?: ParallelCompliance;
  /** ParallelScanSource.batchSize. */
  readonly batchSize?: number;
}

/** A worker's answer. */
export type ScanWorkerOutput =
  | { readonly ok: true; readonly chains: [string, ChainResult][]; readonly compliance?: ComplianceParts }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** Sent by a worker while it reads: finished runs and security events, taken out of its accumulator (ComplianceAccumulator.takeFinished). */
export interface ScanWorkerBatch {
  readonly batch: ComplianceParts;
}

/** Finished runs and security events a worker holds before it sends them (about 1 MB of evidence). */
export const BATCH_SIZE = 500;

/** Worker threads by default: one per core, at most 4 (each holds a few 1 MB pages and its chains' state). */
export function defaultWorkers(): number {
  return Math.min(4, availableParallelism());
}

/**
 * The worker's module: beside this one in the sources (run through tsx's loader), or the bundle's
 * `parallel-audit-scan-worker.js` beside the chunk this code is in (scripts/build-cli.ts).
 */
function startWorker(workerData: ScanWorkerInput, heapMb: number | undefined): Worker {
  const here = import.meta.url;
  setFlagsFromString(`--initial-old-space-size=${WORKER_INITIAL_HEAP_MB}`);
  const options = { workerData, ...(heapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}) };
  if (here.endsWith('.ts')) {
    const src = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(new URL('./parallel-audit-scan-worker.ts', here).href)});`;
    return new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), options);
  }
  return new Worker(new URL('./parallel-audit-scan-worker.js', here), options);
}

/**
 * One worker's answer, with the batches it sent on the way; a worker that ran out of its heap limit is
 * started again without one, and what it had sent is dropped (the second worker sends it all again).
 */
function runWorker(input: ScanWorkerInput, heapMb: number | undefined, onRetry: ((message: string) => void) | undefined, pool: StringPool): Promise<{ out: ScanWorkerOutput; batches: ComplianceParts[] }> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(input, heapMb);
    const batches: ComplianceParts[] = [];
    /** Set when the answer is left to a second worker: this one's exit then says nothing. */
    let handedOver = false;
    worker.on('message', (m: ScanWorkerOutput | ScanWorkerBatch) => {
      if ('batch' in m) batches.push(shareStrings(m.batch, pool));
      else {
        if (m.ok && m.compliance) shareStrings(m.compliance, pool);
        resolve({ out: m, batches });
      }
    });
    worker.once('error', (err: Error & { code?: string }) => {
      if (err.code !== 'ERR_WORKER_OUT_OF_MEMORY' || heapMb === undefined) return reject(err);
      handedOver = true;
      onRetry?.(`audit scan worker for segments ${input.segments.join(', ')} ran out of its ${heapMb} MiB heap; reading them again without a limit`);
      runWorker(input, undefined, onRetry, pool).then(resolve, reject);
    });
    worker.once('exit', (code) => {
      if (!handedOver) reject(new Error(`audit scan worker for segments ${input.segments.join(', ')} exited with code ${code} before answering`));
    });
  });
}

/**
 * Checks every chain of the table (and, given `compliance`, folds every record) in worker threads.
 *
 * @throws Error named by DynamoDB's error type when a worker's read failed.
 * @example
 * const { chains } = await scanInWorkers({ raw, tableName }, anchors);
 */
export async function scanInWorkers(
  source: ParallelScanSource,
  anchors: ReadonlyMap<string, AuditHead[]>,
  compliance?: ParallelCompliance,
): Promise<{ chains: Map<string, ChainResult>; compliance: ComplianceParts[] }> {
  const workers = Math.max(1, Math.floor(source.workers ?? defaultWorkers()));
  const perWorker = Math.max(1, Math.floor(source.segmentsPerWorker ?? 2));
  const totalSegments = workers * perWorker;
  const connection = await source.raw.connection();
  const anchorList = [...anchors];
  const pool = new StringPool();
  const outputs = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const input: ScanWorkerInput = {
        connection,
        tableName: source.tableName,
        segments: Array.from({ length: perWorker }, (_, k) => w + k * workers),
        totalSegments,
        ...(source.pageSize ? { pageSize: source.pageSize } : {}),
        anchors: anchorList,
        ...(compliance ? { compliance } : {}),
        ...(source.batchSize !== undefined ? { batchSize: source.batchSize } : {}),
      };
      return runWorker(input, source.workerHeapMb ?? WORKER_HEAP_MB, source.onRetry, pool);
    }),
  );
  const chains = new Map<string, ChainResult>();
  const parts: ComplianceParts[] = [];
  for (const { out, batches } of outputs) {
    if (!out.ok) throw Object.assign(new Error(out.message), { name: out.name });
    for (const [partition, result] of out.chains) chains.set(partition, result);
    parts.push(...batches);
    if (out.compliance) parts.push(out.compliance);
  }
  return { chains, compliance: parts };
}
