// `report costs`' empty-period check on dynalite: an empty period is still REPORT_EMPTY_PERIOD (exit 2), found with one Limit-1 byActionTime Query per action, never a Scan of the table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../functions/audit/audit-log.ts';
import { DynamoAuditStore } from '../../functions/audit/dynamo-store.ts';
import type { AuditRecordInput } from '../../functions/audit/types.ts';
import type { RegmanConfig } from '../../functions/config/index.ts';
import { collectCostReport } from '../../functions/reports/costs/collect.ts';
import { AUDITED_ACTIONS } from '../../functions/reports/costs/period-records.ts';
import { COST_ACTIONS } from '../../functions/reports/costs/records.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const SINCE = '2026-05-25T00:00:00.000Z';
// No registry to list: the collector reads the log only.
const noRegistries = { version: 1, registries: {} } as unknown as RegmanConfig;

/** An expression value as sent: the document client's plain string, or the wire's `{ S }`. */
const text = (v: unknown): unknown => (v !== null && typeof v === 'object' && 'S' in v ? (v as { S: string }).S : v);

interface Sent {
  readonly command: string;
  readonly input: { readonly IndexName?: string; readonly Limit?: number; readonly KeyConditionExpression?: string; readonly ExpressionAttributeValues?: Record<string, unknown> };
}

describe('report costs: the empty-period check (dynalite)', () => {
  let db: DynaliteHandle;
  let log: AuditLog;
  const sent: Sent[] = [];

  beforeAll(async () => {
    db = await startDynalite();
    // Every request the audit log sends, as the low-level command and its input.
    db.client.middlewareStack.add((next, context) => async (args) => {
      sent.push({ command: String(context.commandName), input: args.input as Sent['input'] });
      return next(args);
    }, { step: 'initialize', name: 'countRequests' });
    // Prepare: a table of older records (before the period) across actions and repositories.
    log = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
    const actions = ['replicate', 'retention.plan', 'promote.validate', 'approval.request', 'webhook.request', 'copy'];
    for (let i = 0; i < 60; i += 1) {
      const r: AuditRecordInput = { actor: 'cli:t', action: actions[i % actions.length]!, outcome: 'success', correlationId: `old-${i}`, repository: `team/r${i % 4}`, time: new Date(Date.UTC(2026, 3, 1) + i * 60_000).toISOString() };
      await log.append(r);
    }
  }, 60_000);

  afterAll(async () => {
    await db?.stop();
  });

  it('an empty period is REPORT_EMPTY_PERIOD (exit 2), asked with one Limit-1 Query per action and no Scan', async () => {
    // Act
    sent.length = 0;
    const err = await collectCostReport({ config: noRegistries, adapters: new Map(), log, since: '7d', now: NOW, refuseEmptyPeriod: true }).catch((e: unknown) => e);

    // Assess: the same error as before.
    expect(err).toMatchObject({ code: 'REPORT_EMPTY_PERIOD', exitCode: 2, message: expect.stringMatching(/^No audit records from 2026-05-25T00:00:00\.000Z until now \(2026-06-01T00:00:00\.000Z\): .*--since/) });
    // Assess: only index Queries bounded by the period: one per cost action (the report's own reads), then one Limit-1 probe per other action.
    expect(sent.filter((s) => s.command !== 'QueryCommand')).toEqual([]);
    expect(sent.every((s) => s.input.IndexName === 'byActionTime' && /timeKey|#t >= :since/.test(s.input.KeyConditionExpression ?? '') && text(s.input.ExpressionAttributeValues?.[':since']) === SINCE)).toBe(true);
    const probed = sent.filter((s) => s.input.Limit === 1).map((s) => text(s.input.ExpressionAttributeValues?.[':k']));
    const others = AUDITED_ACTIONS.filter((a) => !COST_ACTIONS.includes(a));
    expect([...probed].sort()).toEqual([...others].sort());
    expect(sent).toHaveLength(COST_ACTIONS.length + others.length);
  });

  it('a period holding only a record the cost report does not price is a report, and the probes stop at the hit', async () => {
    // Prepare: one approval notification in the period (no transfer, no deletion).
    await log.append({ actor: 'system:approvals', action: 'approval.notify', outcome: 'success', correlationId: 'new-1', repository: 'team/r0', time: '2026-05-30T00:00:00.000Z' });
    sent.length = 0;

    // Act
    const report = await collectCostReport({ config: noRegistries, adapters: new Map(), log, since: '7d', now: NOW, refuseEmptyPeriod: true });

    // Assess
    expect(report).toMatchObject({ since: SINCE, transfer: { pairs: [], total: 0 } });
    expect(sent.filter((s) => s.command !== 'QueryCommand')).toEqual([]);
    const probed = sent.filter((s) => s.input.Limit === 1).map((s) => text(s.input.ExpressionAttributeValues?.[':k']));
    expect(probed).toContain('approval.notify');
    // At most the probes already in flight when the hit came (4 at a time) follow it.
    const others = AUDITED_ACTIONS.filter((a) => !COST_ACTIONS.includes(a));
    expect(probed.length).toBeLessThanOrEqual(others.indexOf('approval.notify') + 4);
    expect(probed.length).toBeLessThan(others.length);
  });

  it('a period with a transfer is a report without any probe', async () => {
    // Prepare
    await log.append({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'new-2', repository: 'team/r1', source: 'a', target: 'b', bytes: 100, time: '2026-05-31T00:00:00.000Z' });
    sent.length = 0;

    // Act
    const report = await collectCostReport({ config: noRegistries, adapters: new Map(), log, since: '7d', now: NOW, refuseEmptyPeriod: true });

    // Assess
    expect(report).toMatchObject({ since: SINCE });
    // The cost queries alone: one per cost action, no probe.
    expect(sent.filter((s) => s.input.Limit === 1)).toEqual([]);
    expect(sent).toHaveLength(COST_ACTIONS.length);
  });
});
