// The operations dashboard (issue 11): replication per target, DLQ depth, retention bytes freed, promotion and approval outcomes, audit anchor age; from the metrics the functions emit.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** POWERTOOLS_METRICS_NAMESPACE of every function (BaseFunction's default). */
export const METRICS_NAMESPACE = 'RegistryManager';

/**
 * The metric names the dashboard reads, and who emits them (Powertools EMF; each also carries the
 * `service` dimension Powertools adds):
 * - replicate / reconcile (functions/replication/replicate.ts): ReplicationSuccesses, ReplicationFailures,
 *   ReplicationDuration, ReplicatedBytes, by `target`
 * - retention-sweep (functions/handlers/retention-sweep.ts), applied sweeps only: RetentionBytesFreed, RetentionDigestsDeleted, by `registry`
 * - the promotion Record function (functions/handlers/promotion-lambda.ts): PromotionsRecorded, by final `status`
 *   (REJECTED and TIMED_OUT are the approvals refused and expired)
 * - audit-anchor (functions/handlers/audit-anchor.ts): AuditAnchorAge (seconds since the previous anchor), AuditAnchorHeads
 */
export const DASHBOARD_METRICS = {
  replicationSuccesses: 'ReplicationSuccesses',
  replicationFailures: 'ReplicationFailures',
  replicationDuration: 'ReplicationDuration',
  replicatedBytes: 'ReplicatedBytes',
  retentionBytesFreed: 'RetentionBytesFreed',
  retentionDeleted: 'RetentionDigestsDeleted',
  promotionsRecorded: 'PromotionsRecorded',
  anchorAge: 'AuditAnchorAge',
} as const;

export interface DashboardProps {
  /** The replication DLQ and any further ones (pull statistics), by label. */
  readonly deadLetterQueues: readonly { readonly label: string; readonly queue: sqs.IQueue }[];
  /** The promotion state machine, when the config has edges. @default no execution graph */
  readonly promotion?: sfn.IStateMachine;
  /** The anchor function, for its errors next to the age. @default no errors graph */
  readonly anchorFunction?: lambda.IFunction;
  /** @default 'regman-operations' */
  readonly dashboardName?: string;
}

/** Every series of `metricName` in the namespace, one line per dimension set (per target, registry or status). */
function search(metricName: string, statistic: string, label: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label,
    period,
  });
}

/**
 * One CloudWatch dashboard. The per-target, per-registry and per-status lines are SEARCH
 * expressions, so a new target or registry shows up without a redeploy. The alarms stay in
 * Observability; this only draws.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const m = DASHBOARD_METRICS;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'regman-operations',
      defaultInterval: Duration.days(1),
    });
    const w = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: '# regman\nReplication per target, dead letters, retention, promotions and approvals, audit anchors. What each alarm means: docs/OPERATIONS.md.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      w('Replications succeeded per target', [search(m.replicationSuccesses, 'Sum', 'succeeded')]),
      w('Replications failed per target', [search(m.replicationFailures, 'Sum', 'failed')]),
      w('Replication time per target (p50, p95)', [search(m.replicationDuration, 'p50', 'p50'), search(m.replicationDuration, 'p95', 'p95')], { leftYAxis: { label: 'ms', showUnits: false } }),
    );
    this.dashboard.addWidgets(
      w('Bytes replicated per target', [search(m.replicatedBytes, 'Sum', 'bytes')]),
      w(
        'Dead-letter queue depth',
        props.deadLetterQueues.map((d) => d.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum', label: d.label })),
      ),
      w('Retention: bytes freed and digests deleted per registry', [search(m.retentionBytesFreed, 'Sum', 'bytes freed', Duration.hours(1))], {
        right: [search(m.retentionDeleted, 'Sum', 'deleted', Duration.hours(1))],
      }),
    );
    const promotionGraphs: cloudwatch.IWidget[] = [w('Promotions by outcome (REJECTED, TIMED_OUT: approvals refused, expired)', [search(m.promotionsRecorded, 'Sum', 'promotions', Duration.hours(1))])];
    if (props.promotion) {
      const period = Duration.hours(1);
      promotionGraphs.push(
        w('Promotion executions', [
          props.promotion.metricStarted({ period, statistic: 'Sum', label: 'started' }),
          props.promotion.metricSucceeded({ period, statistic: 'Sum', label: 'succeeded' }),
          props.promotion.metricFailed({ period, statistic: 'Sum', label: 'failed' }),
          props.promotion.metricTimedOut({ period, statistic: 'Sum', label: 'timed out' }),
        ]),
      );
    }
    // SEARCH (not a fixed dimension set): the series is found whatever default dimensions Powertools adds.
    const anchorAge = new cloudwatch.MathExpression({
      expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${m.anchorAge}"', 'Maximum', 3600) / 3600`,
      usingMetrics: {},
      label: 'hours since the previous anchor, at each anchor',
      period: Duration.hours(1),
    });
    promotionGraphs.push(
      w('Audit anchor age', [anchorAge], {
        leftYAxis: { label: 'hours', showUnits: false, min: 0 },
        ...(props.anchorFunction ? { right: [props.anchorFunction.metricErrors({ period: Duration.hours(1), statistic: 'Sum', label: 'anchor runs failed' })] } : {}),
      }),
    );
    this.dashboard.addWidgets(...promotionGraphs);
  }
}
