// Our own retention rules: the evaluator whose combination semantics docs/RETENTION.md defines (schema: ../retention-policy/parse-native.ts).
import picomatch from 'picomatch';
import { DAY_MS, ago, ms, youngestFirst, type Evaluation, type EvaluationContext, type Verdict } from './evaluation.ts';
import type { InventoryImage, NativePolicy } from './types.ts';

interface CompiledNative {
  readonly repoIncluded: (repository: string) => boolean;
  /** The preserving pattern a tag matches, if any. */
  readonly preservedBy: (tag: string) => string | undefined;
}

// Compiling globs and regexes once per policy keeps a 10k-repository sweep fast.
const compiled = new WeakMap<NativePolicy, CompiledNative>();

function compile(policy: NativePolicy): CompiledNative {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const include = policy.repositories.include.map((g) => picomatch(g));
  const exclude = policy.repositories.exclude.map((g) => picomatch(g));
  const globs = policy.keep.tags.map((g) => ({ label: `preserved glob ${g}`, test: picomatch(g) }));
  const regexes = policy.keep.tagRegex.map((r) => {
    const re = new RegExp(r);
    return { label: `preserved regex /${r}/`, test: (tag: string) => re.test(tag) };
  });
  const preservers = [...globs, ...regexes];
  const result: CompiledNative = {
    repoIncluded: (repo) => (include.length === 0 || include.some((m) => m(repo))) && !exclude.some((m) => m(repo)),
    preservedBy: (tag) => preservers.find((p) => p.test(tag))?.label,
  };
  compiled.set(policy, result);
  return result;
}

/** The UTC day `YYYY-MM-DD` of an instant. */
function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Pulls in the window [firstDay, today], or undefined when only `lastPulledAt` is known and it falls inside. */
function pullsInWindow(image: InventoryImage, window: PullWindow): number | undefined {
  if (image.pulls) {
    let total = 0;
    for (const p of image.pulls) if (p.day >= window.firstDay && p.day <= window.today) total += p.count;
    return total;
  }
  // Before the first day's midnight is before the first day: compared as numbers, not as formatted days.
  if (image.lastPulledAt === null || ms(image.lastPulledAt) < window.firstDayMs) return 0;
  return undefined;
}

interface Selection {
  readonly rule: string;
  readonly reason: string;
}

/** The deletion rules that select an image, in a fixed order (untagged, age, pulls), and the rules that do not. */
interface PullWindow {
  readonly firstDay: string;
  /** 00:00 UTC of firstDay. */
  readonly firstDayMs: number;
  readonly today: string;
}

// A sweep evaluates thousands of repositories at one instant: the window's days are formatted once, not per repository.
let lastWindow: { nowMs: number; inDays: number; window: PullWindow } | undefined;
function pullWindow(nowMs: number, inDays: number): PullWindow {
  if (lastWindow?.nowMs !== nowMs || lastWindow.inDays !== inDays) {
    const firstDayMs = Math.floor((nowMs - (inDays - 1) * DAY_MS) / DAY_MS) * DAY_MS;
    lastWindow = { nowMs, inDays, window: { firstDay: utcDay(firstDayMs), firstDayMs, today: utcDay(nowMs) } };
  }
  return lastWindow.window;
}

function deletionRules(policy: NativePolicy, image: InventoryImage, ctx: EvaluationContext, window: PullWindow | undefined): { hits: Selection[]; misses: number } {
  const d = policy.delete;
  const hits: Selection[] = [];
  let misses = 0;
  if (d.untagged) {
    if (image.tags.length === 0) hits.push({ rule: 'delete.untagged', reason: 'untagged manifest' });
    else misses++;
  }
  if (d.olderThanDays !== undefined) {
    if (ctx.pushedMs(image) < ctx.nowMs - d.olderThanDays * DAY_MS) {
      hits.push({ rule: 'delete.olderThanDays', reason: `pushed ${ago(image.pushedAt, ctx.nowMs)}, older than ${d.olderThanDays} days` });
    } else misses++;
  }
  if (d.pulls) {
    const { fewerThan, inDays } = d.pulls;
    // An image younger than the window has not had the whole window to be pulled: it is not judged by pulls.
    if (ctx.pushedMs(image) > ctx.nowMs - inDays * DAY_MS || !window) misses++;
    else {
      const count = pullsInWindow(image, window);
      if (count !== undefined && count < fewerThan) {
        hits.push({ rule: 'delete.pulls', reason: `${count} pull${count === 1 ? '' : 's'} in the last ${inDays} days, fewer than ${fewerThan}` });
      } else misses++; // count undefined: only lastPulledAt is known, inside the window; the exact count is unknown, so keep.
    }
  }
  return { hits, misses };
}

/**
 * Evaluates our rules. Protections (preserved tags, keep.last) always win; otherwise an image expires when
 * its deletion rules select it (`match: any`: at least one; `match: all`: every configured one).
 */
export function evaluateNative(
  policy: NativePolicy,
  roots: readonly InventoryImage[],
  all: readonly InventoryImage[],
  ctx: EvaluationContext,
): Evaluation {
  const c = compile(policy);
  const verdicts = new Map<string, Verdict>();
  const protections = new Map<string, Verdict>();
  if (!c.repoIncluded(ctx.repository)) {
    for (const image of roots) {
      verdicts.set(image.digest, { action: 'keep', rule: 'repositories', reason: `repository ${ctx.repository} is not selected by the policy's repository filters` });
    }
    return { verdicts, protections, warnings: [] };
  }
  // Preserved tags protect any digest that carries them, judged or not.
  for (const image of all) {
    for (const tag of image.tags) {
      const by = c.preservedBy(tag);
      if (by) {
        protections.set(image.digest, { action: 'keep', rule: 'keep.tags', reason: `tag ${tag} matches ${by}` });
        break;
      }
    }
  }
  const lastN = new Map<string, number>();
  if (policy.keep.last !== undefined) {
    const tagged = youngestFirst(roots.filter((i) => i.tags.length > 0), ctx.pushedMs);
    tagged.slice(0, policy.keep.last).forEach((image, i) => lastN.set(image.digest, i + 1));
  }
  const pulls = policy.delete.pulls;
  const window = pulls ? pullWindow(ctx.nowMs, pulls.inDays) : undefined;
  for (const image of roots) {
    const { hits, misses } = deletionRules(policy, image, ctx, window);
    const selected = policy.delete.match === 'any' ? hits.length > 0 : hits.length > 0 && misses === 0;
    const wouldExpire = selected ? ` (it would otherwise expire: ${hits.map((h) => h.reason).join('; ')})` : '';
    const protection = protections.get(image.digest);
    const rank = lastN.get(image.digest);
    if (protection) {
      verdicts.set(image.digest, { ...protection, reason: protection.reason + wouldExpire });
    } else if (rank !== undefined) {
      verdicts.set(image.digest, { action: 'keep', rule: 'keep.last', reason: `number ${rank} of the last ${policy.keep.last} tagged images by push time${wouldExpire}` });
    } else if (selected) {
      const first = hits[0] as Selection;
      verdicts.set(image.digest, { action: 'expire', rule: first.rule, reason: hits.map((h) => h.reason).join('; ') });
    } else {
      const why = hits.length > 0 ? `only some deletion rules select it (match: all): ${hits.map((h) => h.reason).join('; ')}` : 'no deletion rule selects it';
      verdicts.set(image.digest, { action: 'keep', rule: 'no-match', reason: why });
    }
  }
  return { verdicts, protections, warnings: [] };
}
