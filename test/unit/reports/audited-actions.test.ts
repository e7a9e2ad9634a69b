// AUDITED_ACTIONS (the cost report's empty-period probes) holds every action the code appends: a new dotted action, constant or step not listed would make a period holding only its records read as empty.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFERRED_ACTION } from '../../../functions/replication/deferral.ts';
import { FANOUT_ACTION } from '../../../functions/replication/large/fanout.ts';
import { AUDITED_ACTIONS } from '../../../functions/reports/costs/period-records.ts';
import { WEBHOOK_AUDIT_ACTION } from '../../../functions/webhooks/receive.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `action: 'a.b'` literals (dotted: the plain words `keep`, `expire`, `approve` are retention and approval verbs, not audit actions). */
function dottedActions(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of ['functions', 'bin', 'local'].flatMap(sources)) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/action: '([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)'/g)) found.set(m[1]!, file);
  }
  return found;
}

describe('AUDITED_ACTIONS', () => {
  it('lists every dotted action literal appended in functions/, bin/ and local/', () => {
    const found = dottedActions();
    expect(found.size).toBeGreaterThan(5);
    expect([...found].filter(([a]) => !AUDITED_ACTIONS.includes(a)).map(([a, file]) => `${a} (${file})`)).toEqual([]);
  });

  it('lists the action constants, the promotion steps and gates, the approval decisions and the hold verbs', () => {
    // functions/promotion/deps.ts `promote.${step}` (GateName and each auditStep call), approvals/service.ts `approval.${action}`, bin/commands/hold.ts `promote.hold-${verb}`.
    const expected = [
      DEFERRED_ACTION, FANOUT_ACTION, WEBHOOK_AUDIT_ACTION, 'replicate', 'reconcile', 'copy', 'sync', 'tag', 'delete',
      ...['validate', 'scan', 'signature', 'tests', 'quarantine', 'request-approval', 'apply-tags', 'sync', 'rollback', 'record'].map((s) => `promote.${s}`),
      'approval.approve', 'approval.reject', 'promote.hold-set', 'promote.hold-release',
    ];
    expect(expected.filter((a) => !AUDITED_ACTIONS.includes(a))).toEqual([]);
    expect(new Set(AUDITED_ACTIONS).size).toBe(AUDITED_ACTIONS.length);
  });
});
