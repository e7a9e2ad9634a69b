// Validates a repository inventory (the input of `regman retention plan`) and returns it typed.
import * as z from 'zod';
import { InventoryError, fromZodIssues, type InputIssue } from './errors.ts';
import type { Inventory } from './types.ts';

// OCI image-spec descriptor.md "Digests": algorithm ":" encoded; sha256 must be 64 lowercase hex.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
// distribution spec: tags are [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const digest = z
  .string()
  .regex(DIGEST, 'not a digest (expected algorithm:hex, e.g. sha256:<64 hex>)')
  .refine((d) => !d.startsWith('sha256:') || SHA256.test(d), 'a sha256 digest needs 64 lowercase hex characters');
const instant = z.iso.datetime({ offset: true, message: 'not an ISO-8601 date-time (e.g. 2024-05-01T12:00:00Z)' });

const imageSchema = z.object({
  digest,
  tags: z.array(z.string().regex(TAG, 'not a valid tag')).default([]),
  pushedAt: instant,
  timeSource: z.enum(['registry', 'push-log', 'annotation', 'config-created', 'config-label', 'unknown']).optional(),
  lastPulledAt: instant.nullable().default(null),
  pulls: z
    .array(
      z.object({
        day: z.string().regex(DAY, 'not a day (YYYY-MM-DD)'),
        count: z.number().int().nonnegative(),
      }),
    )
    .optional(),
  mediaType: z.string().min(1).optional(),
  sizeBytes: z.number().int().nonnegative().optional(),
  manifests: z.array(digest).optional(),
  subject: digest.optional(),
  blobs: z.array(z.object({ digest, size: z.number().int().nonnegative() })).optional(),
});

const inventorySchema = z.object({
  repository: z.string().min(1, 'repository must not be empty'),
  images: z.array(imageSchema),
});

/**
 * Validates an inventory document; errors name the path and the bad value.
 *
 * @example
 * const inventory = parseInventory(JSON.parse(text), 'inv.json');
 */
export function parseInventory(input: unknown, source?: string): Inventory {
  const parsed = inventorySchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new InventoryError(fromZodIssues(parsed.error.issues), source);
  const inventory = parsed.data;
  const issues: InputIssue[] = [];
  const digestAt = new Map<string, number>();
  const tagAt = new Map<string, number>();
  inventory.images.forEach((image, i) => {
    const seen = digestAt.get(image.digest);
    if (seen !== undefined) {
      issues.push({ path: `images[${i}].digest`, message: `duplicate of images[${seen}].digest`, value: image.digest });
    } else digestAt.set(image.digest, i);
    image.tags.forEach((tag, t) => {
      const other = tagAt.get(tag);
      if (other !== undefined && other !== i) {
        issues.push({ path: `images[${i}].tags[${t}]`, message: `tag is also on images[${other}] (a tag names one digest)`, value: tag });
      } else tagAt.set(tag, i);
    });
    if (image.manifests?.includes(image.digest)) {
      issues.push({ path: `images[${i}].manifests`, message: 'an index cannot list itself', value: image.digest });
    }
    if (image.subject === image.digest) {
      issues.push({ path: `images[${i}].subject`, message: 'a manifest cannot be its own subject', value: image.subject });
    }
  });
  if (issues.length > 0) throw new InventoryError(issues, source);
  return inventory;
}
