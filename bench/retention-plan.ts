// Benchmark: planRetention over 100k tags in 10k repositories (indexes with children and attestations,
// cosign signatures, SBOM referrers, shared layers), median of 5 runs per policy format, plus peak RSS.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parsePolicy, planRetention } from '../functions/retention/index.ts';
import type { Inventory, InventoryImage, RetentionPolicy } from '../functions/retention/types.ts';

const REPOSITORIES = 10_000;
const RUNS = 5;
const NOW = Date.parse('2024-06-01T00:00:00Z');
const DAY = 86_400_000;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let counter = 0;
/** A unique, valid-looking digest; hashing a counter keeps generation deterministic. */
function digest(): string {
  return `sha256:${createHash('sha256').update(String(counter++)).digest('hex')}`;
}

// A small deterministic PRNG (mulberry32) so every run plans the same inventories.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Base layers shared across repositories, as with common base images.
const BASES = Array.from({ length: 20 }, () => [
  { digest: digest(), size: 30_000_000 },
  { digest: digest(), size: 2_000_000 },
]);

/**
 * One repository with exactly 10 tags and 20 digests: 2 multi-arch indexes (2 platforms + 2 attestation
 * manifests each, a cosign .sig tag each), 5 single-arch CI images (one with an SBOM referrer), 2 dangling
 * untagged images.
 */
function repository(r: number, rand: () => number): Inventory {
  const images: InventoryImage[] = [];
  const at = (days: number) => new Date(NOW - days * DAY).toISOString();
  const base = BASES[r % BASES.length] as { digest: string; size: number }[];
  const image = (tags: string[], days: number, extra: Partial<InventoryImage> = {}): InventoryImage => {
    const entry: InventoryImage = {
      digest: digest(),
      tags,
      pushedAt: at(days),
      lastPulledAt: rand() < 0.5 ? at(days * rand()) : null,
      mediaType: OCI_MANIFEST,
      blobs: [...base, { digest: digest(), size: Math.floor(rand() * 50_000_000) }],
      ...extra,
    };
    images.push(entry);
    return entry;
  };
  for (let i = 0; i < 2; i++) {
    const days = i === 0 ? 2 + rand() * 10 : 60 + rand() * 300;
    const children = [image([], days), image([], days)];
    const attestations = children.map(() => image([], days, { blobs: [{ digest: digest(), size: 4000 }] }));
    const index = image(i === 0 ? [`v1.${r % 50}.${i}`, 'latest'] : [`v1.${r % 50}.${i}`], days, {
      mediaType: OCI_INDEX,
      manifests: [...children, ...attestations].map((c) => c.digest),
      blobs: [],
    });
    image([`${index.digest.replace(':', '-')}.sig`], days, { blobs: [{ digest: digest(), size: 250 }] });
  }
  for (let i = 0; i < 5; i++) {
    const ci = image([`ci-${r}-${i}`], rand() * 120, { pulls: [{ day: '2024-05-30', count: Math.floor(rand() * 10) }] });
    if (i === 0) image([], rand() * 120, { subject: ci.digest, blobs: [{ digest: digest(), size: 90_000 }] });
  }
  image([], 5 + rand() * 200);
  image([], 5 + rand() * 200);
  return { repository: `team-${r % 100}/service-${r}`, images };
}

const POLICIES: Record<string, unknown> = {
  regman: { delete: { olderThanDays: 30, untagged: true, pulls: { fewerThan: 3, inDays: 30 } }, keep: { last: 3, tags: ['latest', 'stable'], tagRegex: ['^v\\d+\\.\\d+\\.\\d+$'] } },
  ecr: {
    rules: [
      { rulePriority: 1, selection: { tagStatus: 'tagged', tagPatternList: ['v*'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } },
      { rulePriority: 3, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }, action: { type: 'expire' } },
    ],
  },
  gitlab: { keep_n: 1, older_than: '30d', name_regex: '.*', name_regex_keep: 'latest|stable' },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs the benchmark and returns a markdown section (a table plus notes). */
export async function retentionBenchMarkdown(log: (s: string) => void = () => {}): Promise<string> {
  const rand = prng(42);
  const t0 = performance.now();
  const inventories = Array.from({ length: REPOSITORIES }, (_, r) => repository(r, rand));
  const tags = inventories.reduce((n, inv) => n + inv.images.reduce((m, i) => m + i.tags.length, 0), 0);
  const digests = inventories.reduce((n, inv) => n + inv.images.length, 0);
  log(`retention: generated ${REPOSITORIES} repositories, ${tags} tags, ${digests} digests in ${(performance.now() - t0).toFixed(0)} ms`);
  const rows: string[] = [];
  for (const [format, doc] of Object.entries(POLICIES)) {
    const policy: RetentionPolicy = parsePolicy(doc);
    const now = new Date(NOW);
    const times: number[] = [];
    let expired = 0;
    let blocked = 0;
    let bytes = 0;
    for (let run = 0; run < RUNS; run++) {
      expired = 0;
      blocked = 0;
      bytes = 0;
      const start = performance.now();
      for (const inventory of inventories) {
        const plan = planRetention(inventory, policy, { now });
        expired += plan.expire.length;
        bytes += plan.bytesFreed;
        if (plan.blocked) blocked++;
      }
      times.push(performance.now() - start);
      await new Promise((resolve) => setImmediate(resolve));
    }
    log(`retention: ${format} runs (ms) ${times.map((t) => t.toFixed(0)).join(', ')}`);
    rows.push(
      `| ${format} | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} | ${Math.max(...times).toFixed(0)} | ${expired} | ${blocked} | ${(bytes / 2 ** 30).toFixed(1)} |`,
    );
  }
  const peakRss = process.resourceUsage().maxRSS / 1024;
  return [
    `planRetention over ${REPOSITORIES.toLocaleString('en-US')} repositories, ${tags.toLocaleString('en-US')} tags, ${digests.toLocaleString('en-US')} digests`,
    '(per repository: 2 multi-arch indexes with 2 platforms and 2 attestation manifests each, cosign `.sig` tags,',
    `5 CI images one with an SBOM referrer, 2 dangling untagged images; base layers shared across repositories). ${RUNS} runs per policy format, wall time for all repositories, one process.`,
    '',
    '| policy | median ms | min ms | max ms | digests expired | repos blocked by the safety valve | bytes freed (GiB) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Peak RSS of the benchmark process (inventories included): ${peakRss.toFixed(0)} MiB. Target: < 1000 ms per full plan.`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`## Retention planner\n\n${await retentionBenchMarkdown((s) => process.stderr.write(`${s}\n`))}\n`);
}
