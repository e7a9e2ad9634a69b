// `regman images list --registry R --repository X`: images with tags, digest, size, push and pull times.
import type { Command } from 'commander';
import type { ImageInfo } from '../../functions/registries/adapter.ts';
import { formatBytes } from '../../functions/format-bytes.ts';
import { defaultIo, formatTable, loadRegistries, pickAdapter, shortDigest, withConfigOption, type RegistryCliIo } from './load-adapters.ts';

interface ListOptions {
  readonly config?: string;
  readonly registry?: string;
  readonly repository?: string;
  readonly json?: boolean;
  readonly manifests?: boolean;
}

/** `2024-05-01T10:20:30.000Z` → `2024-05-01 10:20` (UTC); '-' when the registry does not say. */
export function formatTime(iso: string | null | undefined, never = '-'): string {
  if (iso === null) return never;
  if (iso === undefined) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16).replace('T', ' ');
}

/** What an untagged row is, so the table reads without the JSON: a child of an index, or a referrer. */
function untaggedLabel(image: ImageInfo, parents: ReadonlyMap<string, string>): string {
  if (image.subject !== undefined) return `(${image.artifactType ?? 'referrer'} of ${shortDigest(image.subject)})`;
  const parent = parents.get(image.digest);
  if (parent !== undefined) return `(in index ${shortDigest(parent)})`;
  return '<untagged>';
}

/** The images table: TAGS, DIGEST (short), SIZE, PUSHED, LAST PULLED; tagged images first, newest push first. */
export function imagesTable(images: readonly ImageInfo[]): string {
  const parents = new Map<string, string>();
  for (const i of images) for (const child of i.manifests ?? []) parents.set(child, i.digest);
  const sorted = [...images].sort(
    (a, b) => Number(b.tags.length > 0) - Number(a.tags.length > 0) || (b.pushedAt ?? '').localeCompare(a.pushedAt ?? '') || a.digest.localeCompare(b.digest),
  );
  return formatTable(
    ['TAGS', 'DIGEST', 'SIZE', 'PUSHED', 'LAST PULLED'],
    sorted.map((i) => [
      i.tags.length > 0 ? [...i.tags].sort().join(',') : untaggedLabel(i, parents),
      shortDigest(i.digest),
      i.sizeBytes === undefined ? '-' : formatBytes(i.sizeBytes),
      formatTime(i.pushedAt),
      formatTime(i.lastPulledAt, 'never'),
    ]),
  );
}

/** Runs `images list`. */
export async function runImagesList(opts: ListOptions, io: RegistryCliIo): Promise<ImageInfo[]> {
  const loaded = await loadRegistries(opts.config, io);
  try {
    const adapter = pickAdapter(loaded, opts.registry, '--registry');
    const images = await adapter.listImages(opts.repository as string, { withManifests: opts.manifests ?? true });
    if (opts.json) io.stdout(JSON.stringify(images, null, 2));
    else if (images.length > 0) io.stdout(imagesTable(images));
    else io.stderr(`${adapter.name}/${opts.repository} has no tagged images (or no such repository: a registry answers both the same way)`);
    return images;
  } finally {
    loaded.close();
  }
}

/**
 * Adds `regman images list`.
 *
 * @example regman images list --registry ecr-main --repository team/app --json
 */
export function registerImages(program: Command, io: RegistryCliIo = defaultIo()): void {
  const images = program.command('images').description('images in a repository of a configured registry');
  withConfigOption(images.command('list').description('list the images of a repository: tags, digest, size, pushed, last pulled'))
    .requiredOption('--registry <name>', 'a registry name from the configuration')
    .requiredOption('--repository <name>', 'the repository, as the registry names it (e.g. team/app)')
    .option('--json', 'print every field (children, subjects, blobs) as JSON on stdout')
    .option('--no-manifests', 'do not read manifests (faster: no sizes, children or referrers on plain OCI registries)')
    .action(async (opts: ListOptions) => {
      await runImagesList(opts, io);
    });
}
