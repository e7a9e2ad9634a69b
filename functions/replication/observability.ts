// The narrow logging and metrics interfaces the replication domain uses, so handlers plug in Powertools and tests plug in recorders.

/** Structured logger; Powertools' Logger fits it. */
export interface LoggerLike {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export type MetricUnitName = 'Bytes' | 'Count' | 'Milliseconds';

/** Metric names the replication domain emits (each with a `target` dimension). */
export const ReplicationMetric = {
  bytes: 'ReplicatedBytes',
  blobsUploaded: 'BlobsUploaded',
  blobsMounted: 'BlobsMounted',
  blobsSkipped: 'BlobsSkipped',
  duration: 'ReplicationDuration',
  failures: 'ReplicationFailures',
  /** 1 per target an image reached (status `replicated`), 0 otherwise: the dashboard's successes. */
  successes: 'ReplicationSuccesses',
  reconcileRepaired: 'ReconcileRepaired',
  reconcileFailures: 'ReconcileFailures',
} as const;

/**
 * One data point with its dimensions (a per-target figure carries `{ target }`). Handlers adapt
 * Powertools Metrics (`powertoolsMetrics` in functions/handlers/observability.ts); tests record.
 */
export interface MetricsLike {
  record(name: string, unit: MetricUnitName, value: number, dimensions: Readonly<Record<string, string>>): void;
}

export const silentLogger: LoggerLike = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export const noMetrics: MetricsLike = { record: () => undefined };

/**
 * The error code of anything thrown: a typed error's `code`, a Node system error's, or `UNKNOWN`. The
 * copy engine wraps what went wrong in `COPY_INCOMPLETE`; the cause's code (`DENIED`, `UNAVAILABLE`,
 * `DIGEST_MISMATCH`, …) is what an operator acts on, so it is reported instead when there is one.
 */
export function errorCodeOf(err: unknown): string {
  const code = codeOf(err);
  if (code === 'COPY_INCOMPLETE') {
    const inner = codeOf((err as { cause?: unknown }).cause);
    if (inner !== undefined) return inner;
  }
  return code ?? 'UNKNOWN';
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

export function errorMessageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
