// Replication rules with `protected: true` (e.g. to prod mirrors): a quarantined digest is skipped and audited, on push and in reconcile.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { validateConfig } from '../../../functions/config/index.ts';
import type { ImageActionEvent } from '../../../functions/replication/event.ts';
import { protectedVerdict, quarantineLookupOf, type QuarantineLookup } from '../../../functions/replication/quarantine-guard.ts';
import { reconcile } from '../../../functions/replication/reconcile.ts';
import { replicateImage, type ReplicationDeps } from '../../../functions/replication/replicate.ts';
import { ReplicationFailedError } from '../../../functions/replication/errors.ts';
import { pushImage } from '../../helpers/memory-registry.ts';
import { memoryAdapter, replicationConfig } from './support.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

/** A quarantine table stand-in keyed by digest, as functions/promotion/store.ts keeps it. */
function quarantineOf(entries: Record<string, string>): QuarantineLookup {
  return quarantineLookupOf({ getQuarantine: async (digest) => (entries[digest] !== undefined ? { reason: entries[digest] } : undefined) });
}

describe('protectedVerdict', () => {
  const failing: QuarantineLookup = { quarantined: async () => { throw new Error('table unreachable'); } };
  it.each([
    { name: 'a rule that is not protected is always allowed', rule: { name: 'r' }, lookup: undefined, digests: [D1], want: { kind: 'allow' } },
    { name: 'protected, not quarantined', rule: { name: 'r', protected: true }, lookup: quarantineOf({}), digests: [D1], want: { kind: 'allow' } },
    { name: 'protected, the image is quarantined', rule: { name: 'prod', protected: true }, lookup: quarantineOf({ [D1]: 'scan gate: 1 critical' }), digests: [D1], want: { kind: 'skip', digest: D1 } },
    { name: 'protected, the subject of a referrer is quarantined', rule: { name: 'prod', protected: true }, lookup: quarantineOf({ [D2]: 'signature gate' }), digests: [D1, D2], want: { kind: 'skip', digest: D2 } },
    { name: 'protected without a quarantine table: fails closed', rule: { name: 'prod', protected: true }, lookup: undefined, digests: [D1], want: { kind: 'unknown' } },
    { name: 'protected, the table cannot be read: fails closed', rule: { name: 'prod', protected: true }, lookup: failing, digests: [D1], want: { kind: 'unknown' } },
  ])('$name', async ({ rule, lookup, digests, want }) => {
    expect(await protectedVerdict(lookup, rule, digests)).toMatchObject(want);
  });

  it('names the digest, the reason, the rule and the command that releases it', async () => {
    const v = await protectedVerdict(quarantineOf({ [D1]: 'scan gate: 1 critical' }), { name: 'prod', protected: true }, [D1]);
    expect(v.kind === 'skip' && v.reason).toBe(`quarantined: ${D1} (scan gate: 1 critical); rule "prod" is protected, so it is not replicated (regman quarantine release ${D1} --reason …)`);
  });
});

describe('protected: true in the config', () => {
  const yaml = (value: string) => [
    'version: 1',
    'registries:',
    '  src: { kind: oci, url: "http://127.0.0.1:5000", public: true }',
    '  dr: { kind: oci, url: "http://127.0.0.1:5001", public: true }',
    'replication:',
    `  - { name: to-dr, source: src, repositories: ["**"], targets: [{ registry: dr }], protected: ${value} }`,
    '',
  ].join('\n');
  it('is read as a boolean', () => {
    expect(validateConfig(yaml('true'), 'r.yaml').config?.replication[0]?.protected).toBe(true);
  });
  it('refuses anything else with file and path', () => {
    const { errors } = validateConfig(yaml('"yes"'), 'r.yaml');
    expect(errors.map((e) => `${e.path}: ${e.expected}`)).toEqual(['replication[0].protected: true or false']);
  });
});

describe('replication and reconcile along a protected rule', () => {
  function setup(quarantined: Record<string, string>) {
    const source = memoryAdapter('source');
    const a = memoryAdapter('target-a');
    const b = memoryAdapter('target-b');
    const audit = new AuditLog(new InMemoryAuditStore());
    const deps: ReplicationDeps = {
      config: replicationConfig({ protected: true }),
      adapters: new Map([source, a, b].map((x) => [x.name, x])),
      audit,
      quarantine: quarantineOf(quarantined),
      copyOptions: { retryDelayMs: 1 },
    };
    return { source, a, b, audit, deps };
  }
  const event = (digest: string, tag: string): ImageActionEvent => ({ id: `e-${tag}`, time: '2026-01-25T14:30:00Z', account: '123456789012', region: 'us-east-1', repository: 'team/app', digest, actionType: 'PUSH', result: 'SUCCESS', tag });
  const input = (e: ImageActionEvent) => ({ event: e, sourceRegistry: 'source', correlationId: e.id, actor: 'event:aws.ecr' });

  it('a push of a quarantined digest reaches no target, and each skip is audited with the reason', async () => {
    const setupOk = setup({});
    const image = await pushImage(setupOk.source.oci, 'team/app', 'v1', { layers: [100] });
    const { source, a, b, audit, deps } = setup({ [image.digest]: 'scan gate: 1 critical (CVE-2026-0001)' });
    await pushImage(source.oci, 'team/app', 'v1', { layers: [100] });

    const outcome = await replicateImage(input(event(image.digest, 'v1')), deps);

    expect(outcome.status).toBe('skipped');
    expect(a.registry.tagDigest('team/app', 'v1')).toBeUndefined();
    expect(b.registry.tagDigest('mirror/team/app', 'v1')).toBeUndefined();
    const records = await audit.query({ action: 'replicate' });
    expect(records).toHaveLength(2);
    for (const r of records) {
      expect(r).toMatchObject({ outcome: 'skipped', digest: image.digest });
      expect(String(r.details?.reason)).toMatch(/^quarantined: sha256:[0-9a-f]{64} \(scan gate: 1 critical \(CVE-2026-0001\)\); rule "mirror" is protected/);
    }
  });

  it('a digest that is not quarantined replicates as usual; without a quarantine table a protected rule fails (retried), never copies blind', async () => {
    const { source, a, deps } = setup({});
    const image = await pushImage(source.oci, 'team/app', 'v2', { layers: [100] });
    expect((await replicateImage(input(event(image.digest, 'v2')), deps)).status).toBe('replicated');
    expect(a.registry.tagDigest('team/app', 'v2')).toBe(image.digest);

    const other = await pushImage(source.oci, 'team/app', 'v3', { layers: [120] });
    const { quarantine: _dropped, ...blind } = deps;
    const err = await replicateImage(input(event(other.digest, 'v3')), blind).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationFailedError);
    expect((err as ReplicationFailedError).message).toMatch(/QUARANTINE_UNKNOWN: rule "mirror" is protected, but this replication has no quarantine table/);
    expect(a.registry.tagDigest('team/app', 'v3')).toBeUndefined();
  });

  it('reconcile does not repair a protected target with a quarantined digest: it reports and audits the skip', async () => {
    const probe = setup({});
    const bad = await pushImage(probe.source.oci, 'team/app', 'v4', { layers: [90] });
    const { source, a, audit, deps } = setup({ [bad.digest]: 'signature gate: wrong key' });
    await pushImage(source.oci, 'team/app', 'v4', { layers: [90] });
    const good = await pushImage(source.oci, 'team/app', 'v5', { layers: [91] });

    const report = await reconcile(deps, { correlationId: 'rc-1' });

    expect(report.items.filter((i) => i.status === 'skipped').map((i) => `${i.target}:${i.tag}`).sort()).toEqual(['target-a:v4', 'target-b:v4']);
    expect(report).toMatchObject({ repaired: 2, failed: 0 });
    expect(a.registry.tagDigest('team/app', 'v4')).toBeUndefined();
    expect(a.registry.tagDigest('team/app', 'v5')).toBe(good.digest);
    const skipped = await audit.query({ action: 'reconcile', correlationId: 'rc-1' });
    expect(skipped.filter((r) => r.outcome === 'skipped').map((r) => r.digest)).toEqual([bad.digest, bad.digest]);
  });
});
