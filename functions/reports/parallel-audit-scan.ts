// The whole audit table read by worker threads: each reads its own Scan segments, checks those chains and runs the compliance accumulator over them; this thread merges.
//
// One thread spent ~55 µs of CPU per record (docs/BENCHMARKS.md, "Reports over a large audit log"):
// JSON parse, conversion, canonical JSON and sha256 of a million records. A parallel Scan's segment
// holds whole partitions, so a whole chain is read, checked and folded by one worker, and the
// results (per-chain results, compliance counters, evidence, security events) merge without
// another pass. Workers get the connection as plain data (endpoint, region, credentials resolved
// here) and build their own lean client (functions/dynamo/raw-client.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChainResult } from '../audit/chain.ts';
import type { AuditHead } from '../audit/types.ts';
import type { RawDynamoClient } from '../dynamo/raw-client.ts';
import type { ComplianceParts } from './compliance.ts';

export interface ParallelScanSource {
  readonly raw: RawDynamoClient;
  readonly tableName: string;
  /** Worker threads (default: the machine's parallelism, at most 4). */
  readonly workers?: number;
  /** Scan segments per worker (default 2: one page downloads while the other is checked). */
  readonly segmentsPerWorker?: number;
  /** DynamoDB `Limit` per page (tests). */
  readonly pageSize?: number;
}

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
}

/** A worker's answer. */
export type ScanWorkerOutput =
  | { readonly ok: true; readonly chains: [string, ChainResult][]; readonly compliance?: ComplianceParts }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** Worker threads by default: one per core, at most 4 (each holds a few 1 MB pages and its chains' state). */
export function defaultWorkers(): number {
  return Math.min(4, availableParallelism());
}

/**
 * The worker's module: beside this one in the sources (run through tsx's loader), or the bundle's
 * `parallel-audit-scan-worker.js` beside the chunk this code is in (scripts/build-cli.ts).
 */
function startWorker(workerData: ScanWorkerInput): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const src = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(new URL('./parallel-audit-scan-worker.ts', here).href)});`;
    return new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), { workerData });
  }
  return new Worker(new URL('./parallel-audit-scan-worker.js', here), { workerData });
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
      };
      return new Promise<ScanWorkerOutput>((resolve, reject) => {
        const worker = startWorker(input);
        worker.once('message', (m: ScanWorkerOutput) => resolve(m));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`audit scan worker ${w} exited with code ${code} before answering`)));
      });
    }),
  );
  const chains = new Map<string, ChainResult>();
  const parts: ComplianceParts[] = [];
  for (const out of outputs) {
    if (!out.ok) throw Object.assign(new Error(out.message), { name: out.name });
    for (const [partition, result] of out.chains) chains.set(partition, result);
    if (out.compliance) parts.push(out.compliance);
  }
  return { chains, compliance: parts };
}
