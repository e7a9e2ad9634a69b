// Alarms on the replication pipeline: messages in the DLQ, persistent function errors, and events that could not even reach the DLQ.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Replication } from './replication.ts';

/** A state machine to alarm on: any failed, timed-out or aborted execution. */
export interface WorkflowAlarm {
  /** Construct id of the alarm, e.g. `LargeImageExecutionsFailed`. */
  readonly id: string;
  readonly stateMachine: sfn.IStateMachine;
  /** What failed and what to do (the alarm description). */
  readonly description: string;
}

export interface ObservabilityProps {
  readonly replication: Replication;
  /** State machines whose failed executions alarm. @default none */
  readonly workflows?: readonly WorkflowAlarm[];
  /** Further dead-letter queues that alarm on one visible message (id, queue, description). @default none */
  readonly deadLetterQueues?: readonly { readonly id: string; readonly queue: sqs.IQueue; readonly description: string }[];
  /** SNS topic that receives every alarm's ALARM and OK transitions. @default alarms without actions */
  readonly alarmTopicArn?: string;
}

/**
 * The alarms of docs/OPERATIONS.md ("What the alarms mean"). Each alarm's description says what
 * to do. Missing data is not breaching: a quiet system is a healthy one.
 */
export class Observability extends Construct {
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly replicateErrorsAlarm: cloudwatch.Alarm;
  readonly reconcileErrorsAlarm: cloudwatch.Alarm;
  readonly lostEventsAlarm: cloudwatch.Alarm;
  /** The workflow and further dead-letter alarms, by id. */
  readonly workflowAlarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { replication } = props;

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterMessages', {
      alarmDescription:
        'regman: push events failed every retry and wait in the replication DLQ. Read them, fix the cause, then drain (docs/OPERATIONS.md#draining-the-dlq).',
      metric: replication.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Single errors are expected (a target briefly down; the retries handle them); 15 minutes of them are not.
    this.replicateErrorsAlarm = new cloudwatch.Alarm(this, 'ReplicateErrors', {
      alarmDescription:
        'regman: the replicate function has failed in each of the last 3 five-minute periods. Check its logs (error code per target) and the audit log.',
      metric: replication.replicate.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.reconcileErrorsAlarm = new cloudwatch.Alarm(this, 'ReconcileErrors', {
      alarmDescription: 'regman: a scheduled reconcile run failed; drift is not being repaired. Check the reconcile function logs.',
      metric: replication.reconcile.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The worst case: an event that failed AND could not be written to the DLQ is gone (only reconcile repairs it).
    const lost: cloudwatch.IMetric[] = [
      replication.replicate.function.metric('DestinationDeliveryFailures', { period: Duration.minutes(5), statistic: 'Sum' }),
    ];
    if (replication.pushRule) {
      lost.push(
        new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'InvocationsFailedToBeSentToDlq',
          dimensionsMap: { RuleName: replication.pushRule.ruleName },
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
      );
    }
    this.lostEventsAlarm = new cloudwatch.Alarm(this, 'LostEvents', {
      alarmDescription:
        'regman: failed push events could not be delivered to the DLQ (queue policy or encryption?). They are lost; run a reconcile after fixing the queue.',
      metric: new cloudwatch.MathExpression({
        expression: lost.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(lost.map((m, i) => [`m${i}`, m])),
        period: Duration.minutes(5),
        label: 'events lost',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // An execution that ends badly (failed, timed out, aborted) is never retried by itself.
    const workflowAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const w of props.workflows ?? []) {
      const period = Duration.minutes(5);
      workflowAlarms[w.id] = new cloudwatch.Alarm(this, w.id, {
        alarmDescription: w.description,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: w.stateMachine.metricFailed({ period, statistic: 'Sum' }),
            timedOut: w.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
            aborted: w.stateMachine.metricAborted({ period, statistic: 'Sum' }),
          },
          period,
          label: 'executions failed, timed out or aborted',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const q of props.deadLetterQueues ?? []) {
      workflowAlarms[q.id] = new cloudwatch.Alarm(this, q.id, {
        alarmDescription: q.description,
        metric: q.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.workflowAlarms = workflowAlarms;

    if (props.alarmTopicArn) {
      const action = new SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of [this.deadLetterAlarm, this.replicateErrorsAlarm, this.reconcileErrorsAlarm, this.lostEventsAlarm, ...Object.values(workflowAlarms)]) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
