// `regman attach` against a real registry without a referrers API, then the referrer scan gate reading what it attached.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runAttach } from '../../bin/commands/attach.ts';
import { UsageError } from '../../bin/commands/run-cli.ts';
import { fallbackTag } from '../../functions/oci/referrers.ts';
import { runScanGate } from '../../functions/gates/scan.ts';
import { pushImage, pushSbomReferrer } from '../helpers/images.ts';
import { useRegistryWithClient } from '../helpers/registry.ts';

const SARIF = fileURLToPath(new URL('../fixtures/scan-reports/trivy.sarif.json', import.meta.url));

describe('regman attach', () => {
  const ctx = useRegistryWithClient();

  it('attaches a SARIF report by tag, keeps the fallback index entries it did not add, and the scan gate reads it', async () => {
    // Prepare
    const image = await pushImage(ctx.reg, 'team/app', 'v1');
    const sbom = await pushSbomReferrer(ctx.reg, 'team/app', image.descriptor);
    const out: string[] = [];
    // Act
    const result = await runAttach(SARIF, `${ctx.reg.host}/team/app:v1`, { artifactType: 'application/sarif+json', plainHttp: true, json: true }, { stdout: (t) => out.push(t), env: {} });
    const gate = await runScanGate(
      { repository: 'team/app', tag: 'v1', digest: image.digest, edge: { from: 'dev', to: 'staging' }, registry: 'dev', correlationId: 'c' },
      { maxFindings: { critical: 0, high: 2 } },
      { registry: ctx.client, now: () => new Date('2026-02-01T00:00:00Z') },
    );
    // Assess
    expect(JSON.parse(out[0]!)).toEqual({ digest: result.digest, subject: image.digest, artifactType: 'application/sarif+json', listedVia: 'fallback-tag' });
    const index = await ctx.client.manifestGet('team/app', fallbackTag(image.digest));
    expect(index.manifests.map((d) => [d.digest, d.artifactType])).toEqual([[sbom.digest, 'application/spdx+json'], [result.digest, 'application/sarif+json']]);
    const referrer = await ctx.client.manifestGet('team/app', result.digest);
    expect(referrer.subject?.digest).toBe(image.digest);
    expect(referrer.layers[0]?.annotations?.['org.opencontainers.image.title']).toBe('trivy.sarif.json');
    expect(gate).toMatchObject({ passed: false, details: { reportDigest: result.digest, counts: { critical: 1, high: 2 } } });
  });

  it('refuses a missing image, a bad artifact type and an unreadable file with what to do', async () => {
    // Act / Assess
    const io = { stdout: () => undefined, env: {} };
    await expect(runAttach(SARIF, `${ctx.reg.host}/team/none:v1`, { artifactType: 'application/sarif+json', plainHttp: true }, io)).rejects.toThrow(/does not exist: push the image first/);
    await expect(runAttach(SARIF, `${ctx.reg.host}/team/app:v1`, { artifactType: 'sarif', plainHttp: true }, io)).rejects.toBeInstanceOf(UsageError);
    await expect(runAttach('/nonexistent.sarif', `${ctx.reg.host}/team/app:v1`, { artifactType: 'application/sarif+json', plainHttp: true }, io)).rejects.toThrow(/FILE: cannot read/);
  });
});
