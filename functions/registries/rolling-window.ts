// The rolling-window arithmetic of a pull quota (pure): pulls counted per slot, each forgotten one window after it was
// made. Shared by the in-process budget (rate-budget.ts) and the budget every invocation shares on DynamoDB
// (shared-pull-budget.ts), so both count Docker Hub's window the way Hub does.

/** The quota of one credential, from `rateLimit.pulls` per `rateLimit.windowHours`. */
export interface PullQuota {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** Slots per window: the window's pulls are counted in this many buckets (one item stays small whatever the limit). */
export const SLOTS_PER_WINDOW = 60;

/** Slot length for a window: 6 min for Docker Hub's six hours. */
export function slotMs(windowSeconds: number): number {
  return Math.max(1000, Math.ceil((windowSeconds * 1000) / SLOTS_PER_WINDOW));
}

/** When (epoch ms) the pulls counted in the slot starting at `start` leave the window: one window after the slot's end. */
export function slotExpiry(start: number, windowSeconds: number): number {
  return start + slotMs(windowSeconds) + windowSeconds * 1000;
}

/** Pulls per slot start (epoch ms). */
export type SlotCounts = Readonly<Record<string, number>>;

/** The slots of `counts` still in the window at `nowMs`, oldest first. */
export function liveSlots(counts: SlotCounts, windowSeconds: number, nowMs: number): (readonly [start: number, pulls: number])[] {
  return Object.entries(counts)
    .map(([start, n]) => [Number(start), n] as const)
    .filter(([start, n]) => n > 0 && nowMs < slotExpiry(start, windowSeconds))
    .sort((a, b) => a[0] - b[0]);
}

/** The rolling-window arithmetic over slot counts (pure): what is still counted at `nowMs`, and whether `cost` fits. */
export interface RollingDecision {
  readonly granted: boolean;
  /** Pulls still in the window before the take. */
  readonly used: number;
  /** The slots still in the window, with the take added when granted. */
  readonly slots: Record<string, number>;
  /** When (epoch ms) enough earlier pulls have left the window for this take to fit; `nowMs` when granted. */
  readonly resetAt: number;
}

/**
 * A pull counted in slot `s` was made at some time in `[s, s + slot)`; Hub forgets it one window after it
 * was made, so it is forgotten here at `s + slot + window`, never earlier than Hub does (conservative by up to
 * one slot). A refused take says when the oldest slots have left enough room. A `limit` of Infinity only
 * records the pulls (always granted).
 *
 * @example
 * rollingTake({ '0': 3 }, 1, { limit: 3, windowSeconds: 60 }, 30_000) // { granted: false, used: 3, resetAt: 61_000, … }
 */
export function rollingTake(counts: SlotCounts, cost: number, quota: PullQuota, nowMs: number): RollingDecision {
  const slot = slotMs(quota.windowSeconds);
  const live = liveSlots(counts, quota.windowSeconds, nowMs);
  const used = live.reduce((sum, [, n]) => sum + n, 0);
  const slots: Record<string, number> = Object.fromEntries(live.map(([s, n]) => [String(s), n]));
  if (used + cost <= quota.limit) {
    const current = String(Math.floor(nowMs / slot) * slot);
    slots[current] = (slots[current] ?? 0) + cost;
    return { granted: true, used: used + cost, slots, resetAt: nowMs };
  }
  // Free the oldest slots until the take fits; a cost above the limit never fits (one window from now).
  let excess = used + cost - quota.limit;
  let resetAt = nowMs + quota.windowSeconds * 1000;
  for (const [start, n] of live) {
    excess -= n;
    if (excess <= 0) {
      resetAt = slotExpiry(start, quota.windowSeconds);
      break;
    }
  }
  return { granted: false, used, slots, resetAt };
}
