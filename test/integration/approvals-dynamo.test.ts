import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../functions/approvals/dynamo-store.ts';
import type { StoredApprovalRequest } from '../../functions/approvals/types.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { sampleRequest } from '../unit/approvals/fixtures.ts';

let db: DynaliteHandle;
let store: DynamoApprovalStore;

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoApprovalStore({ docClient: db.docClient, tableName: db.tableNames.approvals });
});
afterAll(() => db.stop());

const stored = (id: string, createdAt: string): StoredApprovalRequest => ({
  ...sampleRequest({ executionId: id }),
  requestId: id,
  policy: { approvers: ['a', 'b'], required: 2 },
  createdAt,
  state: 'PENDING',
});

describe('DynamoApprovalStore on dynalite', () => {
  it('wins each race once: request, link use, one decision per identity, the end of the request', async () => {
    expect(await store.putRequestIfAbsent(stored('r1', '2029-01-01T00:00:00Z'))).toBe(true);
    expect(await store.putRequestIfAbsent(stored('r1', '2029-01-01T00:00:00Z'))).toBe(false);
    await store.putLink({ linkId: 'L'.repeat(22), requestId: 'r1', executionId: 'r1', approver: 'a', channel: 'slack', expiresAt: '2030-01-01T00:00:00Z' });
    const uses = await Promise.all([1, 2, 3].map(() => store.consumeLink('L'.repeat(22), '2029-01-01T00:01:00Z')));
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect((await store.getLink('L'.repeat(22)))?.usedAt).toBe('2029-01-01T00:01:00Z');
    expect(await store.consumeLink('M'.repeat(22), 'x')).toBe(false);

    const decision = { requestId: 'r1', identity: 'a', decision: 'approve' as const, time: '2029-01-01T00:01:00Z', channel: 'slack' as const };
    expect(await store.putDecisionIfAbsent(decision)).toBe(true);
    expect(await store.putDecisionIfAbsent({ ...decision, time: 'later' })).toBe(false);
    await store.putDelivery({ requestId: 'r1', channel: 'slack', to: 'a', ok: false, attempts: 3, time: 't', error: 'boom' });

    const snap = await store.getSnapshot('r1');
    expect(snap?.request.taskToken).toBe('TASK-TOKEN-SECRET-123');
    expect(snap?.decisions.map((d) => d.identity)).toEqual(['a']);
    expect(snap?.deliveries).toEqual([{ requestId: 'r1', channel: 'slack', to: 'a', ok: false, attempts: 3, time: 't', error: 'boom' }]);

    expect(await store.updateTaskToken('r1', 'T2')).toBe(true);
    const ends = await Promise.all([store.endRequest('r1', 'APPROVED', 'e1'), store.endRequest('r1', 'REJECTED', 'e2', 'no')]);
    expect(ends.filter(Boolean)).toHaveLength(1);
    expect(await store.updateTaskToken('r1', 'T3')).toBe(false);
    await store.setCompletionError('r1', 'TaskTimedOut');
    expect((await store.getSnapshot('r1'))?.request).toMatchObject({ taskToken: 'T2', completionError: 'TaskTimedOut' });
  });

  it('lists requests by state, newest first', async () => {
    await store.putRequestIfAbsent(stored('r2', '2029-02-01T00:00:00Z'));
    await store.putRequestIfAbsent(stored('r3', '2029-03-01T00:00:00Z'));
    expect((await store.listByState('PENDING')).map((r) => r.requestId)).toEqual(['r3', 'r2']);
    expect(await store.getSnapshot('nope')).toBeUndefined();
  });
});
