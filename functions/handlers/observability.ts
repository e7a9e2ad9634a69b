// Powertools logger, metrics and tracer for the handlers, and the adapters to the domain's LoggerLike / MetricsLike.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { LoggerLike, MetricsLike, MetricUnitName } from '../replication/observability.ts';

/** Default metrics namespace when POWERTOOLS_METRICS_NAMESPACE is unset. */
export const METRICS_NAMESPACE = 'RegistryManager';

export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** One logger, metrics and tracer for a handler; the service name comes from POWERTOOLS_SERVICE_NAME unless given. */
export function createPowertools(serviceName?: string): Powertools {
  const service = serviceName ? { serviceName } : {};
  return {
    logger: new Logger(service),
    metrics: new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, ...service }),
    tracer: new Tracer(service),
  };
}

const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Bytes: MetricUnit.Bytes,
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
};

/**
 * Per-target figures as their own EMF documents (`singleMetric`), so each carries its `target`
 * dimension without leaking it onto the handler's other metrics.
 */
export function powertoolsMetrics(metrics: Metrics): MetricsLike {
  return {
    record(name, unit, value, dimensions) {
      const single = metrics.singleMetric();
      for (const [key, v] of Object.entries(dimensions)) single.addDimension(key, v);
      single.addMetric(name, UNITS[unit], value);
    },
  };
}

/** The domain's logger interface over Powertools' Logger (attributes become top-level JSON keys). */
export function powertoolsLogger(logger: Logger): LoggerLike {
  return {
    debug: (message, attributes) => (attributes ? logger.debug(message, attributes) : logger.debug(message)),
    info: (message, attributes) => (attributes ? logger.info(message, attributes) : logger.info(message)),
    warn: (message, attributes) => (attributes ? logger.warn(message, attributes) : logger.warn(message)),
    error: (message, attributes) => (attributes ? logger.error(message, attributes) : logger.error(message)),
  };
}
