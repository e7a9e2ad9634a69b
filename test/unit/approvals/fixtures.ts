// Shared test data for approvals: a request as RequestApproval hands it over, and a recording task completer.
import type { ApprovalDecision, ApprovalRequest, TaskCompleter } from '../../../functions/approvals/requester.ts';

export const DIGEST = `sha256:${'a'.repeat(64)}`;

export function sampleRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    executionId: 'promote-team-app-1',
    taskToken: 'TASK-TOKEN-SECRET-123',
    edge: { from: 'dev', to: 'staging' },
    repository: 'team/app',
    tag: 'v1.2.3',
    digest: DIGEST,
    requester: 'cli:rita',
    pusher: 'paul@example.com',
    gates: [
      { gate: 'scan', passed: true, summary: '0 critical, 1 high (1 allowlisted)', details: { counts: { high: 1, critical: 0, low: 3 }, allowlisted: ['CVE-2024-0001'] } },
      { gate: 'signature', passed: true, summary: 'cosign signature by key ci' },
      { gate: 'tests', passed: true, summary: 'smoke passed', details: { url: 'https://ci.example.com/run/7' } },
    ],
    target: { currentDigest: `sha256:${'b'.repeat(64)}`, tags: [{ tag: 'v1.2.3', to: DIGEST }, { tag: 'latest', from: `sha256:${'b'.repeat(64)}`, to: DIGEST }] },
    expiresAt: '2030-01-02T00:00:00.000Z',
    correlationId: 'corr-1',
    ...overrides,
  };
}

export class RecordingCompleter implements TaskCompleter {
  readonly succeeded: { token: string; output: ApprovalDecision }[] = [];
  readonly failed: { token: string; error: string; cause: string }[] = [];
  async succeed(token: string, output: ApprovalDecision): Promise<void> {
    this.succeeded.push({ token, output });
  }
  async fail(token: string, error: string, cause: string): Promise<void> {
    this.failed.push({ token, error, cause });
  }
}
