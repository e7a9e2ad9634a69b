// The manifest graph of one repository: which digests a policy judges, and which follow an index or a subject.
import { ms } from './evaluation.ts';
import type { DigestRole, Inventory, InventoryImage } from './types.ts';

// Tag schemas that name a subject by digest: the OCI referrers fallback index `sha256-<hex>`
// (distribution-spec "Referrers Tag Schema") and cosign's `sha256-<hex>.sig/.att/.sbom`.
const REFERRER_TAG = /^sha256-([a-f0-9]{64})(?:\.(sig|att|sbom))?$/;

export interface ImageGraph {
  readonly byDigest: ReadonlyMap<string, InventoryImage>;
  /** index → children present in the inventory. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** child → indexes present in the inventory that list it. */
  readonly parents: ReadonlyMap<string, readonly string[]>;
  /** subject → its referrers. */
  readonly referrers: ReadonlyMap<string, readonly string[]>;
  /** referrer → its subject, and how it was found. */
  readonly subjectOf: ReadonlyMap<string, { readonly subject: string; readonly via: string }>;
  readonly role: ReadonlyMap<string, DigestRole>;
  /** digest → push time in ms, parsed once. */
  readonly pushed: ReadonlyMap<string, number>;
  /** The images a policy judges: neither an untagged index child nor a referrer of a present subject. */
  readonly roots: readonly InventoryImage[];
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Finds the subject of a referrer: its `subject` field, else a referrer-schema tag whose subject is present. */
function findSubject(image: InventoryImage, byDigest: ReadonlyMap<string, InventoryImage>): { subject: string; via: string } | undefined {
  if (image.subject !== undefined && byDigest.has(image.subject)) return { subject: image.subject, via: 'subject field' };
  for (const tag of image.tags) {
    if (!tag.startsWith('sha256-')) continue;
    const m = REFERRER_TAG.exec(tag);
    if (m) {
      const subject = `sha256:${m[1]}`;
      if (byDigest.has(subject) && subject !== image.digest) {
        return { subject, via: m[2] ? `cosign tag ${tag}` : `referrers tag ${tag}` };
      }
    }
  }
  return undefined;
}

/** Builds the graph; digests that point outside the inventory are ignored (nothing to keep or free there). */
export function buildGraph(inventory: Inventory): ImageGraph {
  const byDigest = new Map<string, InventoryImage>();
  const pushed = new Map<string, number>();
  for (const image of inventory.images) {
    byDigest.set(image.digest, image);
    pushed.set(image.digest, ms(image.pushedAt));
  }
  const children = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  const referrers = new Map<string, string[]>();
  const subjectOf = new Map<string, { subject: string; via: string }>();
  for (const image of inventory.images) {
    for (const child of image.manifests ?? []) {
      if (!byDigest.has(child) || child === image.digest) continue;
      push(children, image.digest, child);
      push(parents, child, image.digest);
    }
    const found = findSubject(image, byDigest);
    if (found) {
      subjectOf.set(image.digest, found);
      push(referrers, found.subject, image.digest);
    }
  }
  const role = new Map<string, DigestRole>();
  const roots: InventoryImage[] = [];
  for (const image of inventory.images) {
    if (subjectOf.has(image.digest)) role.set(image.digest, 'referrer');
    else if (image.tags.length === 0 && parents.has(image.digest)) role.set(image.digest, 'child');
    else {
      role.set(image.digest, 'image');
      roots.push(image);
    }
  }
  return { byDigest, children, parents, referrers, subjectOf, role, roots, pushed };
}
