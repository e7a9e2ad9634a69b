// The scheduled anchor: signs the current heads into the sink, reports the previous anchor's age, and refuses a secret without a key.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAnchorKey, verifyAnchor } from '../../../functions/audit/anchor.ts';
import { FileAnchorSink } from '../../../functions/audit/anchors/file-sink.ts';
import { AuditLog } from '../../../functions/audit/audit-log.ts';
import { InMemoryAuditStore } from '../../../functions/audit/memory-store.ts';
import { AnchorMetric, createAnchorHandler, secretKeyReader } from '../../../functions/handlers/audit-anchor.ts';
import { silentLogger } from '../../../functions/replication/observability.ts';

const dir = mkdtempSync(join(tmpdir(), 'regman-anchor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit-anchor handler', () => {
  it('anchors every head, then reports the previous anchor age in seconds', async () => {
    // Prepare
    const log = new AuditLog(new InMemoryAuditStore());
    for (const repository of ['a', 'b']) await log.append({ actor: 'cli:x', action: 'copy', outcome: 'success', correlationId: 'c', repository });
    const key = generateAnchorKey();
    const sink = new FileAnchorSink(join(dir, 'anchors'));
    const points: [string, string, number][] = [];
    let now = new Date('2026-12-01T10:00:00.000Z');
    const anchor = createAnchorHandler(() => ({ log, sink, privateKey: async () => key.privateKey, metrics: { record: (n, u, v) => points.push([n, u, v]) }, logger: silentLogger, now: () => now }));

    // Act
    const first = await anchor();
    now = new Date('2026-12-01T11:00:30.000Z');
    const second = await anchor();

    // Assess
    expect(first).toMatchObject({ heads: 2, previousAgeSeconds: null });
    expect(second.previousAgeSeconds).toBe(3630);
    expect(points).toEqual([
      [AnchorMetric.heads, 'Count', 2],
      [AnchorMetric.age, 'Seconds', 3630],
      [AnchorMetric.heads, 'Count', 2],
    ]);
    const latest = await sink.latest();
    expect(latest?.heads.map((h) => h.partition)).toEqual(['repo#a', 'repo#b']);
    expect(() => verifyAnchor(latest!, key.publicKey)).not.toThrow();
  });

  it('reads the key from the secret once, and says what to put in a secret that holds none', async () => {
    const sm = mockClient(SecretsManagerClient);
    const key = generateAnchorKey();
    sm.on(GetSecretValueCommand, { SecretId: 'good' }).resolves({ SecretString: key.privateKey });
    sm.on(GetSecretValueCommand, { SecretId: 'fresh' }).resolves({ SecretString: 'x7Gq-generated-placeholder' });
    const read = secretKeyReader(new SecretsManagerClient({ region: 'eu-west-1' }), 'good');
    expect(await read()).toBe(key.privateKey);
    expect(await read()).toBe(key.privateKey);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await expect(secretKeyReader(new SecretsManagerClient({ region: 'eu-west-1' }), 'fresh')()).rejects.toMatchObject({ code: 'AUDIT_ANCHOR_INVALID', message: expect.stringMatching(/openssl genpkey -algorithm ed25519.*put-secret-value --secret-id fresh/) });
    sm.restore();
  });
});
