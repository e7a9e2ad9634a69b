// Client side of the referrers tag schema: after pushing a manifest with `subject` to a registry that did
// not process it (no `OCI-Subject` header), add it to the subject's `sha256-<hex>` fallback index.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests-with-subject
import { OciError, isNotFoundError } from './errors.ts';
import { MediaType } from './media-types.ts';
import { manifestDescriptor } from './manifest.ts';
import { fallbackTag } from './referrers.ts';
import type { Registry } from './registry.ts';
import type { Descriptor, Manifest } from './types.ts';

/** Read-modify-write of one fallback index at a time per host, repository and subject (in this process). */
const updating = new Map<string, Promise<unknown>>();

/**
 * Adds `referrer` to the fallback index of its subject, as the spec asks of a client whose push got
 * no `OCI-Subject` header: pull `sha256-<hex>` (a 404 starts an empty index), refuse anything that
 * is not an image index, keep every entry already there (others' referrers too), skip a duplicate,
 * append its descriptor (media type, digest, size, artifactType, annotations), push. Returns false when the referrer was already listed (nothing pushed).
 * Updates of the same index in this process are serialised; two writers in different processes can
 * still race (the spec accepts that: the tag schema has no compare-and-swap).
 */
export function addToFallbackIndex(registry: Registry, repository: string, referrer: Manifest): Promise<boolean> {
  const subject = referrer.subject;
  if (subject === undefined) return Promise.resolve(false);
  const key = `${registry.host}/${repository}@${subject.digest}`;
  const previous = updating.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => update(registry, repository, subject.digest, manifestDescriptor(referrer)));
  updating.set(key, next);
  const cleanup = (): void => {
    if (updating.get(key) === next) updating.delete(key);
  };
  next.then(cleanup, cleanup);
  return next;
}

async function update(registry: Registry, repository: string, subject: string, entry: Descriptor): Promise<boolean> {
  const tag = fallbackTag(subject);
  let doc: { schemaVersion: 2; mediaType: string; manifests: Descriptor[]; [k: string]: unknown } = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [],
  };
  try {
    const current = await registry.manifestGet(repository, tag);
    if (current.kind !== 'index') {
      throw new OciError(
        `${registry.host}/${repository}:${tag} is a ${current.mediaType}, not the image index the referrers tag schema expects; ` +
          `the referrer ${entry.digest} was pushed but is not listed. Delete or fix that tag, then copy again.`,
        { code: 'MANIFEST_INVALID', registry: registry.host },
      );
    }
    doc = JSON.parse(current.raw.toString('utf8')) as typeof doc;
    if (!Array.isArray(doc.manifests)) doc.manifests = [];
  } catch (err) {
    if (!isNotFoundError(err)) throw err;
  }
  if (doc.manifests.some((d) => d.digest === entry.digest)) return false;
  doc.manifests.push(entry);
  await registry.manifestPut(repository, tag, { raw: Buffer.from(JSON.stringify(doc)), mediaType: MediaType.OciIndex });
  return true;
}
