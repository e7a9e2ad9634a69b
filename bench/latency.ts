// Push-to-replicated latency on the embedded local stack: a push to the source until every target has the tag.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../local/stack.ts';
import { pushImage, pushLargeImage } from '../test/helpers/images.ts';
import { ACCEPT_ALL_MANIFESTS } from '../test/helpers/raw-push.ts';
import { median } from './copy.ts';

const MiB = 1024 * 1024;

/**
 * One source and two targets, the second under `mirror/` (config/local.yaml replicates to one DR
 * registry only; the published numbers are for two parallel copies).
 */
const CONFIG = `version: 1
registries:
  source:
    kind: oci
    url: \${REGMAN_BENCH_SOURCE_URL:-http://127.0.0.1:5000}
    public: true
  target-a:
    kind: oci
    url: \${REGMAN_BENCH_TARGET_A_URL:-http://127.0.0.1:5001}
    public: true
  target-b:
    kind: oci
    url: \${REGMAN_BENCH_TARGET_B_URL:-http://127.0.0.1:5002}
    public: true
replication:
  - name: mirror-releases
    source: source
    repositories: ["**"]
    tags: { include: ["/^v\\\\d+(\\\\.\\\\d+)*$/"] }
    targets: [{ registry: target-a }, { registry: target-b, repositoryPrefix: mirror }]
    referrers: true
`;

interface LatencyCase {
  readonly name: string;
  readonly push: (url: string, repo: string, tag: string) => Promise<{ digest: string }>;
}

const CASES: readonly LatencyCase[] = [
  { name: 'small image (2 layers, 6 KiB)', push: (url, repo, tag) => pushImage({ url }, repo, tag, { layers: [2048, 4096] }) },
  { name: '1 GiB image (8 layers of 128 MiB)', push: (url, repo, tag) => pushLargeImage({ url }, repo, tag, Array.from({ length: 8 }, () => 128 * MiB)) },
];

async function digestAt(url: string, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: ACCEPT_ALL_MANIFESTS } });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

/** Polls every target until each has `tag` at `digest`; returns the seconds since `since`. */
async function waitReplicated(targets: readonly { url: string; repo: string }[], tag: string, digest: string, since: bigint): Promise<number> {
  const deadline = Date.now() + 300_000;
  const pending = new Set(targets);
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`not replicated within 300 s: ${[...pending].map((t) => t.url).join(', ')}`);
    for (const t of [...pending]) if ((await digestAt(t.url, t.repo, tag)) === digest) pending.delete(t);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 25));
  }
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/**
 * Starts the local stack on CONFIG (a source and two targets, one under `mirror/`),
 * pushes each case `runs` times under a release tag the rule replicates, and measures from the end of
 * the push (the source acknowledged the tag) until both targets serve the tag at the same digest.
 */
export async function latencyMarkdown(log: (s: string) => void, runs = 3): Promise<string> {
  const stateDir = mkdtempSync(join(tmpdir(), 'regman-latency-'));
  const configFile = join(stateDir, 'latency.yaml');
  writeFileSync(configFile, CONFIG);
  const stack = await startLocalStack({ configFile, stateDir: join(stateDir, 'state'), reconcileEveryMinutes: 0 });
  const rows: string[] = [];
  try {
    const regs = stack.endpoints.registries;
    for (const c of CASES) {
      const samples: number[] = [];
      const repo = `bench/${c.name.startsWith('small') ? 'small' : 'large'}`;
      for (let i = 0; i < runs; i++) {
        const tag = `v1.${i}`;
        const { digest } = await c.push(regs.source!, repo, tag);
        const pushed = process.hrtime.bigint();
        const seconds = await waitReplicated(
          [
            { url: regs['target-a']!, repo },
            { url: regs['target-b']!, repo: `mirror/${repo}` },
          ],
          tag,
          digest,
          pushed,
        );
        samples.push(seconds);
        log(`  ${c.name} #${i + 1}: replicated to both targets ${seconds.toFixed(2)} s after the push`);
      }
      rows.push(`| ${c.name} | ${median(samples).toFixed(2)} | ${Math.min(...samples).toFixed(2)} | ${Math.max(...samples).toFixed(2)} |`);
    }
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return [
    `Local stack (one source, two targets, one under \`mirror/\`), ${runs} pushes per case. Time from the`,
    "source's acknowledgement of the tag to both targets serving it at the same digest: the webhook,",
    'the replicate handler (idempotency check, audit records) and two parallel copies. The 1 GiB image',
    'is 2 GiB to copy over the two targets, above the default fan-out limit (docs/LARGE_IMAGES.md): as',
    'on AWS, it goes through the replicate-large state machine (plan, one Map item per blob, publish, record).',
    '',
    '| image | median s | min s | max s |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
