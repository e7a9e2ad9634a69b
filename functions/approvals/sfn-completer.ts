// The TaskCompleter in AWS: SendTaskSuccess / SendTaskFailure, the only Step Functions calls the approvals function may make.
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ApprovalDecision, TaskCompleter } from './requester.ts';

export class SfnTaskCompleter implements TaskCompleter {
  constructor(private readonly client: Pick<SFNClient, 'send'>) {}

  async succeed(taskToken: string, output: ApprovalDecision): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    // SendTaskFailure caps `cause` at 32768 characters and `error` at 256.
    await this.client.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32768) }));
  }
}
