// Separation of duties reaches the approval request: the pusher (from the replication audit records) and the
// principal that started a run on someone's behalf are named in the request, and both are refused as approvers.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { checkSeparationOfDuties } from '../../../functions/approvals/checks.ts';
import type { ApprovalRequest } from '../../../functions/approvals/requester.ts';
import { requestApproval } from '../../../functions/promotion/approval-step.ts';
import type { PromotionDeps, PromotionState } from '../../../functions/promotion/deps.ts';
import { pusherFromAudit } from '../../../functions/promotion/pusher-of.ts';
import type { PromotionRecord } from '../../../functions/promotion/types.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const CI = 'arn:aws:sts::111122223333:assumed-role/ci-push/build-42';

async function auditWithPushes(): Promise<AuditLog> {
  const audit = new AuditLog(new InMemoryAuditStore());
  const replicate = (digest: string, pushedBy: Record<string, string | boolean>) =>
    audit.append({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: `c-${digest.slice(7, 9)}`, repository: 'app', digest, details: { pushedBy } });
  await replicate(D1, { principal: CI, source: 'cloudtrail' });
  await replicate(D2, { unknown: true, reason: 'no PutImage record found' });
  await audit.append({ actor: 'cli:paul', action: 'replicate', outcome: 'success', correlationId: 'c-other', repository: 'other', digest: D2, details: { pushedBy: { principal: 'paul', source: 'cloudtrail' } } });
  return audit;
}

describe('pusherFromAudit', () => {
  it('names the principal the replication record carries for that repository and digest, and nothing else', async () => {
    const pusherOf = pusherFromAudit(await auditWithPushes());
    expect(await pusherOf('app', D1)).toBe(CI);
    expect(await pusherOf('app', D2)).toBeUndefined(); // unknown pusher, and the other repository's record does not count
    expect(await pusherOf('missing', D1)).toBeUndefined();
  });
});

describe('requestApproval', () => {
  const records = new Map<string, PromotionRecord>();
  const requested: ApprovalRequest[] = [];
  const deps = (audit: AuditLog): PromotionDeps => ({
    config: {
      registries: {},
      environments: { staging: { registries: ['staging'] }, prod: { registries: ['prod'] } },
      promotion: [{ from: 'staging', to: 'prod', requires: [], soakHours: 0, gates: { approval: { required: 1, approvers: ['alice', 'rita', 'build-42'] } } }],
    } as unknown as PromotionDeps['config'],
    adapters: new Map(),
    audit,
    store: {
      getExecution: async (id: string) => records.get(id),
      putExecution: async (r: PromotionRecord) => void records.set(r.executionId, r),
    } as unknown as PromotionDeps['store'],
    approvals: { request: async (r: ApprovalRequest) => (requested.push(r), { requestId: r.executionId }) } as PromotionDeps['approvals'],
    pusherOf: pusherFromAudit(audit),
    now: () => new Date('2026-12-02T03:00:00Z'),
  });
  const state = (onBehalfOf?: string): PromotionState => ({
    input: {
      executionId: `exec-${onBehalfOf ?? 'self'}`, correlationId: 'c1', repository: 'app', tag: 'v1', from: 'staging', to: 'prod',
      requester: 'arn:aws:iam::111122223333:user/deployer', ...(onBehalfOf ? { onBehalfOf } : {}), requestedAt: '2026-12-02T02:59:00Z',
    },
    run: {
      digest: D1, mediaType: 'application/vnd.oci.image.manifest.v1+json', sourceRegistry: 'staging', targetRegistries: ['prod'], envTag: 'prod-v1',
      gates: { scan: false, signature: false, tests: false, approval: true }, approvalTimeoutSeconds: 3600, freezeOverridden: false,
    },
  });

  it('names the pusher and the principal acting for the requester, and the approvals check refuses both', async () => {
    const audit = await auditWithPushes();
    await requestApproval({ taskToken: 'tok', state: state('rita') }, deps(audit));
    const request = requested.at(-1)!;
    expect(request).toMatchObject({ requester: 'rita', requestedVia: 'arn:aws:iam::111122223333:user/deployer', pusher: CI });
    const refused = (who: string): string | undefined => {
      try {
        checkSeparationOfDuties({ requestId: request.executionId, ...request }, who, who);
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    expect(refused('rita')).toBe('APPROVAL_SEPARATION_OF_DUTIES');
    expect(refused('arn:aws:iam::111122223333:user/deployer')).toBe('APPROVAL_SEPARATION_OF_DUTIES');
    expect(refused('build-42')).toBe('APPROVAL_SEPARATION_OF_DUTIES'); // the session that pushed (assumed-role ARN)
    expect(refused('alice')).toBeUndefined();
    expect(records.get('exec-rita')?.status).toBe('WAITING_FOR_APPROVAL');
  });

  it('sets no requestedVia when the principal asks for itself', async () => {
    await requestApproval({ taskToken: 'tok', state: state() }, deps(await auditWithPushes()));
    expect(requested.at(-1)).not.toHaveProperty('requestedVia');
    expect(requested.at(-1)?.requester).toBe('arn:aws:iam::111122223333:user/deployer');
  });
});
