// The local stack's smaller parts on their own: audit access from a state folder, endpoints.json liveness, the control routes, the invoker and the schedule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { createAsyncInvoker, type DeadLetter } from '../../local/async-invoker.ts';
import { LOCKED_MESSAGE, openLocalAuditLog } from '../../local/audit-access.ts';
import { startControlServer } from '../../local/control-server.ts';
import { DynamoLockedError, startLocalDynamo } from '../../local/dynamodb.ts';
import { readLiveEndpoints, writeEndpoints, type LocalEndpoints } from '../../local/endpoints.ts';
import { startReconcileSchedule } from '../../local/reconcile-schedule.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'regman-local-parts-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const endpointsFor = (pid: number, endpoint: string): LocalEndpoints => ({
  registries: { src: 'http://127.0.0.1:1' },
  source: 'src',
  environments: {},
  dynamodb: { endpoint, tables: { audit: 'regman-audit' } },
  control: 'http://127.0.0.1:2',
  controlToken: 'token',
  pid,
});

describe('openLocalAuditLog', () => {
  it('reads the files of a stopped stack, and refuses a folder without state', async () => {
    // Prepare: a stopped stack's database with one record.
    const state = tempDir();
    const db = await startLocalDynamo({ path: join(state, 'dynamodb') });
    const writer = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tables.audit, region: 'local' });
    await writer.log.append({ actor: 'cli:test', action: 'copy', outcome: 'success', correlationId: 'c1', repository: 'team/app' });
    writer.close();
    await db.stop();

    // Act
    const opened = await openLocalAuditLog(state);
    let records;
    try {
      records = await opened.log.query({});
    } finally {
      await opened.close();
    }

    // Assess
    expect(opened.via).toContain(join(state, 'dynamodb'));
    expect(records.map((r) => `${r.action} ${r.repository} ${r.correlationId}`)).toEqual(['copy team/app c1']);
    await expect(openLocalAuditLog(tempDir())).rejects.toThrow(/no local stack state in .*regman local --state-dir/);
  });

  it('goes through the endpoint of a live stack, and names the lock when only the files are left', async () => {
    // Prepare: a "running stack" in this process, holding the files.
    const state = tempDir();
    const db = await startLocalDynamo({ path: join(state, 'dynamodb') });
    try {
      // Act / Assess: without endpoints.json, the lock is named.
      await expect(openLocalAuditLog(state)).rejects.toThrow(LOCKED_MESSAGE);
      await expect(startLocalDynamo({ path: join(state, 'dynamodb') })).rejects.toBeInstanceOf(DynamoLockedError);

      // Act / Assess: with endpoints.json naming this (live) process, it uses the endpoint.
      await writeEndpoints(state, endpointsFor(process.pid, db.endpoint));
      const opened = await openLocalAuditLog(state);
      try {
        expect(opened.via).toContain(db.endpoint);
        expect(await opened.log.query({})).toEqual([]);
      } finally {
        await opened.close();
      }
    } finally {
      await db.stop();
    }
  });
});

describe('readLiveEndpoints', () => {
  it('ignores a file left by a process that is gone', async () => {
    const state = tempDir();
    expect(await readLiveEndpoints(state)).toBeUndefined();
    await writeEndpoints(state, endpointsFor(2 ** 22 + 12345, 'http://127.0.0.1:3'));
    expect(await readLiveEndpoints(state)).toBeUndefined();
    await writeEndpoints(state, endpointsFor(process.pid, 'http://127.0.0.1:3'));
    expect((await readLiveEndpoints(state))?.pid).toBe(process.pid);
  });
});

describe('control server', () => {
  it('accepts a body that is not JSON without acting on it, reports reconcile errors as 500, and 404s other routes', async () => {
    // Prepare
    const received: unknown[] = [];
    const lines: string[] = [];
    const server = await startControlServer({
      controlToken: 'secret',
      log: (l) => lines.push(l),
      onNotification: (_r, e) => received.push(e),
      onReconcile: async () => {
        throw new Error('source unreachable');
      },
    });
    try {
      // Act
      const bad = await fetch(server.notifyUrlFor('src'), { method: 'POST', headers: server.notifyHeaders, body: 'not json' });
      const reconcile = await fetch(`${server.url}/reconcile`, { method: 'POST', headers: server.notifyHeaders });
      const health = await fetch(`${server.url}/health`);
      const missing = await fetch(`${server.url}/nope`);

      // Assess
      expect(bad.status).toBe(200);
      expect(received).toEqual([]);
      expect(lines.join('\n')).toContain('ignored a body that is not JSON');
      expect(reconcile.status).toBe(500);
      expect(await reconcile.json()).toEqual({ error: 'source unreachable' });
      expect(await health.json()).toEqual({ ok: true });
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain('POST /reconcile');
    } finally {
      await server.stop();
    }
  });
});

describe('createAsyncInvoker', () => {
  it('retries a failing handler twice with the given delays, then dead-letters it with the error code', async () => {
    // Prepare
    const letters: DeadLetter[] = [];
    const started: number[] = [];
    const invoker = createAsyncInvoker<{ id: string }>({
      name: 'test',
      retryDelaysMs: [30, 60],
      deadLetters: { send: async (l) => void letters.push(l) },
      handler: async (_e, context) => {
        started.push(Date.now());
        expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
        throw Object.assign(new Error('target down'), { code: 'NETWORK' });
      },
    });

    // Act
    invoker.invoke({ id: 'e1' });
    await invoker.idle();

    // Assess
    expect(started).toHaveLength(3);
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(25);
    expect(started[2]! - started[1]!).toBeGreaterThanOrEqual(55);
    expect(letters).toEqual([{ event: { id: 'e1' }, error: { code: 'NETWORK', message: 'target down' }, attempts: 3, correlationId: 'e1' }]);
  });

  it('drops pending retries on stop and refuses new work', async () => {
    const letters: DeadLetter[] = [];
    let calls = 0;
    const invoker = createAsyncInvoker<{ id: string }>({
      name: 'test',
      retryDelaysMs: [10_000, 10_000],
      deadLetters: { send: async (l) => void letters.push(l) },
      handler: async () => {
        calls += 1;
        throw new Error('boom');
      },
    });
    invoker.invoke({ id: 'e2' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await invoker.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(calls).toBe(1);
    expect(letters).toEqual([]);
    expect(() => invoker.invoke({ id: 'e3' })).toThrow(/stopped/);
  });
});

describe('startReconcileSchedule', () => {
  it('runs on its timer, shares a running reconcile with on-demand callers, and stops', async () => {
    // Prepare
    let runs = 0;
    const lines: string[] = [];
    const schedule = startReconcileSchedule({
      everyMinutes: 0.001, // 60 ms
      log: (l) => lines.push(l),
      run: async () => {
        runs += 1;
        await new Promise((r) => setTimeout(r, 20));
        return runs;
      },
    });
    try {
      // Act
      await new Promise((r) => setTimeout(r, 200));
      const [a, b] = await Promise.all([schedule.trigger('test'), schedule.trigger('test')]);

      // Assess
      expect(a).toBe(b);
      expect(runs).toBeGreaterThanOrEqual(2);
      expect(lines.some((l) => l.includes('every 0.001 min'))).toBe(true);
    } finally {
      await schedule.stop();
    }
    const after = runs;
    await new Promise((r) => setTimeout(r, 150));
    expect(runs).toBe(after);
  });
});
