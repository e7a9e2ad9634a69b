// Builders for retention unit tests: stable fake digests, images pushed N days before a fixed instant.
import { createHash } from 'node:crypto';
import type { InventoryImage } from '../../../functions/retention/types.ts';

export const NOW = '2024-06-01T12:00:00.000Z';
const NOW_MS = Date.parse(NOW);

/** A sha256 digest derived from a name, so tests read `d('A')` instead of 64 hex characters. */
export function d(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** The instant `days` days (fractions allowed) before NOW. */
export function daysAgo(days: number): string {
  return new Date(NOW_MS - days * 86_400_000).toISOString();
}

/** An image named `name` with the given tags, pushed `days` days ago. */
export function img(name: string, tags: string[], days: number, extra: Partial<InventoryImage> = {}): InventoryImage {
  return { digest: d(name), tags, pushedAt: daysAgo(days), lastPulledAt: null, ...extra };
}

/** Maps digests back to the names used to build them, for readable assertions. */
export function namer(names: string[]): (digest: string) => string {
  const byDigest = new Map(names.map((n) => [d(n), n]));
  return (digest) => byDigest.get(digest) ?? digest;
}
