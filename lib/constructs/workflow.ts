// A Standard Step Functions state machine from an ASL file in statemachines/, its Task functions substituted by ARN, logged and traced.
import { existsSync } from 'node:fs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeNag, acknowledgeWildcardResources } from '../nag.ts';
import type { BaseFunction } from './base-function.ts';

export interface WorkflowProps {
  /** The ASL file (absolute path), e.g. statemachines/replicate-large.asl.json; the local stack runs the same file. */
  readonly definitionFile: string;
  /** `${Name}` placeholder of the ASL → the function whose ARN replaces it. The role may invoke exactly these. */
  readonly functions: Readonly<Record<string, BaseFunction>>;
  readonly description: string;
  /**
   * `false` (tests, `-c regman:skipBundling=true`) tolerates a definition file that does not exist yet:
   * a placeholder definition that fails every execution takes its place. Never deploy it.
   * @default true
   */
  readonly requireDefinition?: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** More `${Name}` substitutions that are not functions (e.g. a queue URL). @default none */
  readonly substitutions?: Readonly<Record<string, string>>;
  /**
   * A fixed name, when a function the ASL invokes must know this state machine's ARN (built with
   * Arn.format, not a Ref, which would be a dependency cycle). @default generated
   */
  readonly stateMachineName?: string;
}

/**
 * The house way to run a statemachines/*.asl.json: STANDARD type (long runs, exactly-once steps,
 * redrive), `DefinitionBody.fromFile` with `definitionSubstitutions` for the Task ARNs, every event
 * with execution data logged to its own log group (cdk-nag AwsSolutions-SF1), X-Ray tracing (SF2).
 *
 * @example
 * const wf = new Workflow(this, 'RetentionSweep', { definitionFile, description: 'Nightly sweep',
 *   functions: { RetentionListFunctionArn: list, RetentionSweepFunctionArn: sweep } });
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const placeholders = Object.keys(props.functions);
    if (placeholders.length === 0) throw new Error(`Workflow ${this.node.path}: functions must name at least one Task function`);
    const present = existsSync(props.definitionFile);
    if (!present && (props.requireDefinition ?? true)) {
      throw new Error(
        `Workflow ${this.node.path}: definitionFile ${props.definitionFile} does not exist; write it, or synthesize with ` +
          '-c regman:skipBundling=true (requireDefinition: false) for a structural check only',
      );
    }

    // Execution data may name repositories, digests and tags; it never carries credentials (the
    // functions read those from Secrets Manager themselves).
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: props.description,
      definitionBody: present ? sfn.DefinitionBody.fromFile(props.definitionFile) : sfn.DefinitionBody.fromString(placeholderDefinition(placeholders)),
      definitionSubstitutions: { ...Object.fromEntries(Object.entries(props.functions).map(([name, fn]) => [name, fn.function.functionArn])), ...props.substitutions },
      ...(props.stateMachineName !== undefined ? { stateMachineName: props.stateMachineName } : {}),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    // The role may invoke exactly the substituted functions (and their versions/aliases, `<arn>:*`).
    for (const fn of Object.values(props.functions)) fn.function.grantInvoke(this.stateMachine.role);
    acknowledgeWildcardResources(
      this.stateMachine.role,
      Object.values(props.functions).map((fn) => `${fn.function.functionArn}:*`),
      'lambda:InvokeFunction on the versions and aliases (`<arn>:*`) of the Task functions the ASL names, as Function.grantInvoke grants; no other function.',
    );
    acknowledgeNag(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery, …) and X-Ray (xray:PutTraceSegments, …) support no resource-level ' +
        'permission; AWS documents Resource "*" for both (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).',
    );
  }
}

/**
 * A valid definition that names every placeholder (so the substitutions are used) and ends in a Fail: what
 * an unbundled test synth gets when the ASL file is not written yet (the placeholder functions throw anyway).
 */
function placeholderDefinition(placeholders: readonly string[]): string {
  const states: Record<string, unknown> = {};
  placeholders.forEach((name, i) => {
    states[name] = { Type: 'Task', Resource: `\${${name}}`, Next: i + 1 < placeholders.length ? placeholders[i + 1] : 'Unbundled' };
  });
  states.Unbundled = { Type: 'Fail', Error: 'RegmanUnbundled', Cause: 'synthesized with regman:skipBundling before the ASL file existed' };
  return JSON.stringify({ Comment: 'placeholder: synthesized without the ASL file', StartAt: placeholders[0], States: states });
}
