// regman demo's push in process, into a real distribution registry: the graph is complete, and the real scan and signature gates pass it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanGate } from '../../functions/gates/scan.ts';
import { resolveSignatureKeys } from '../../functions/gates/signature-keys.ts';
import { runSignatureGate } from '../../functions/gates/signature.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { runDemo, type DemoResult } from '../../local/demo/run-demo.ts';
import { LocalSecretResolver } from '../../local/secrets.ts';
import { LOCAL_SIGNING_PUBLIC_KEY_SECRET, ensureLocalSigningKey } from '../../local/signing-key.ts';
import { checkImageComplete } from '../../local/test-hook.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

describe('runDemo into a real registry', () => {
  let dev: RunningRegistry;
  let state: string;
  let client: RegistryClient;
  let demo: DemoResult;
  const logs: string[] = [];

  beforeAll(async () => {
    dev = await startRegistry();
    state = mkdtempSync(join(tmpdir(), 'regman-demo-push-'));
    ensureLocalSigningKey(state);
    // The stack's endpoints.json, with this process standing in for the stack (no replication to watch: waitMs 0).
    writeFileSync(join(state, 'endpoints.json'), JSON.stringify({ registries: { dev: dev.url }, source: 'dev', environments: { dev: ['dev'] }, pid: process.pid }));
    client = new RegistryClient({ host: dev.host, plainHttp: true });
    demo = await runDemo({ stateDir: state, waitMs: 0, created: new Date('2026-03-04T05:06:07Z'), log: (l) => logs.push(l) });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await dev?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('pushes the index under the tag with both platforms and every blob, plus the .sig tag, the SBOM and the scan report', async () => {
    expect(await skopeoDigest(`${dev.host}/demo/app:v1.0.0`)).toBe(demo.digest);
    expect(await checkImageComplete(client, 'demo/app', demo.digest)).toEqual({ checked: 7, missing: [] });
    expect((await client.tagList('demo/app')).sort()).toEqual([demo.signature.tag, `sha256-${demo.digest.slice(7)}`, 'v1.0.0'].sort());
    expect(demo.replication).toEqual([]);
    expect(logs.at(-1)).toBe(`demo: pushed ${dev.host}/demo/app:v1.0.0 → ${demo.digest}`);
    // Without edges, the next commands still say how to promote.
    expect(demo.next).toContain(`npx regman promote --state-dir ${state} --repository demo/app --tag v1.0.0 --from <env> --to <env> --wait`);
  });

  it('passes the real scan gate (critical 0, high ≤ 2) and the real signature gate with the state folder\'s key', async () => {
    const input = { repository: 'demo/app', tag: 'v1.0.0', digest: demo.digest, edge: { from: 'staging', to: 'prod' }, registry: 'dev', correlationId: 'c' };
    const scan = await runScanGate(input, { source: 'referrer', maxFindings: { critical: 0, high: 2 }, allowlist: [], fixableOnly: false, timeouts: { pendingSeconds: 1, pollSeconds: 1 } }, { registry: client, now: () => new Date() });
    expect(scan).toMatchObject({ passed: true, summary: '0 critical, 1 high, 1 medium' });
    const keys = [{ id: 'regman-local', secretName: LOCAL_SIGNING_PUBLIC_KEY_SECRET }];
    const publicKeys = await resolveSignatureKeys(keys, new LocalSecretResolver(state));
    const signature = await runSignatureGate(input, { keys }, { registry: client, publicKeys });
    expect(signature).toMatchObject({ passed: true, summary: 'signed by regman-local (cosign signature (.sig tag))' });
    // Another state folder's key does not verify it.
    const other = mkdtempSync(join(tmpdir(), 'regman-demo-other-'));
    try {
      ensureLocalSigningKey(other);
      const wrong = await runSignatureGate(input, { keys }, { registry: client, publicKeys: await resolveSignatureKeys(keys, new LocalSecretResolver(other)) });
      expect(wrong.passed).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
