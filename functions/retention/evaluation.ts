// What a policy evaluator returns for the images it judges, and the time helpers evaluators share.
import type { InventoryImage } from './types.ts';

export const DAY_MS = 86_400_000;

/** The policy's verdict on one image, before the graph rules and locks are applied. */
export interface Verdict {
  readonly action: 'expire' | 'keep';
  readonly rule: string;
  readonly reason: string;
}

export interface EvaluationContext {
  readonly nowMs: number;
  readonly repository: string;
  /** The image's push time in ms, parsed once per plan (sorting would otherwise parse it again and again). */
  readonly pushedMs: (image: InventoryImage) => number;
}

export interface Evaluation {
  /** One verdict per judged image (graph roots). */
  readonly verdicts: ReadonlyMap<string, Verdict>;
  /** Protections that also hold for digests the policy does not judge (e.g. a preserved tag on a referrer). */
  readonly protections: ReadonlyMap<string, Verdict>;
  readonly warnings: readonly string[];
}

/** Evaluates one policy over the judged images of a repository; `all` is every image, for per-digest protections. */
export type Evaluator = (roots: readonly InventoryImage[], all: readonly InventoryImage[], ctx: EvaluationContext) => Evaluation;

/** Parses an inventory timestamp (already validated as ISO-8601). */
export function ms(iso: string): number {
  return Date.parse(iso);
}

/** `3 days ago`, `5 hours ago`: the age of a timestamp, for reasons. */
export function ago(iso: string, nowMs: number): string {
  const diff = nowMs - ms(iso);
  if (diff < 0) return 'in the future';
  const days = diff / DAY_MS;
  if (days >= 1) {
    const d = Math.floor(days);
    return `${d} day${d === 1 ? '' : 's'} ago`;
  }
  const hours = Math.floor(diff / 3_600_000);
  return `${hours} hour${hours === 1 ? '' : 's'} ago`;
}

/** Sorts images youngest first, ties by digest, so every count rule is deterministic. */
export function youngestFirst(images: readonly InventoryImage[], pushedMs: (image: InventoryImage) => number): InventoryImage[] {
  return [...images].sort((a, b) => pushedMs(b) - pushedMs(a) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/** `tags a, b` or `untagged`: how an image is named in a reason. */
export function tagList(tags: readonly string[]): string {
  return tags.length === 0 ? 'untagged' : `tags ${tags.join(', ')}`;
}
