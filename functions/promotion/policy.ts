// Pure promotion policy: may this edge promote this digest now? Edges, holds, quarantine, freeze windows, upstream rules and soak.
import type { PromotionEdge, RegmanConfig } from '../config/types.ts';
import { PromotionError } from './errors.ts';
import type { HoldRecord, PromotionHistoryEntry, QuarantineRecord } from './types.ts';

/** The edge `from` → `to`, or a PromotionError UNKNOWN_EDGE listing the edges there are. */
export function findEdge(config: Pick<RegmanConfig, 'promotion' | 'environments'>, from: string, to: string): PromotionEdge {
  for (const env of [from, to]) {
    if (!config.environments[env]) {
      const known = Object.keys(config.environments);
      throw new PromotionError('UNKNOWN_ENVIRONMENT', `environment "${env}" is not in the config (environments: ${known.length ? known.join(', ') : 'none'})`);
    }
  }
  const edge = config.promotion.find((e) => e.from === from && e.to === to);
  if (!edge) {
    const edges = config.promotion.map((e) => `${e.from} → ${e.to}`);
    throw new PromotionError('UNKNOWN_EDGE', `no promotion edge ${from} → ${to} in the config (edges: ${edges.length ? edges.join(', ') : 'none'})`);
  }
  return edge;
}

/** The facts Validate gathered; `decidePromotion` judges them without I/O. */
export interface PromotionFacts {
  readonly image: string;
  readonly digest: string;
  readonly to: string;
  readonly edge: Pick<PromotionEdge, 'from' | 'to' | 'requires' | 'soakHours'>;
  readonly now: Date;
  readonly quarantine?: QuarantineRecord;
  readonly hold?: HoldRecord;
  /** The trigger; a rollback is how a hold is set, so it is not refused by it. */
  readonly trigger: 'cli' | 'webhook' | 'rollback';
  readonly freezeWindows: readonly { readonly start: string; readonly end: string; readonly reason?: string }[];
  readonly overrideFreeze: boolean;
  readonly reason?: string;
  /** History of this repository per environment (any order). */
  readonly history: Readonly<Record<string, readonly PromotionHistoryEntry[]>>;
}

/** What a passed decision adds: whether a freeze was overridden (audited as such). */
export interface PromotionDecision {
  readonly freezeOverridden: boolean;
  readonly freezeWindow?: { readonly start: string; readonly end: string; readonly reason?: string };
}

/**
 * Refuses with a PromotionError naming the image and the reason, in this order: quarantine, hold,
 * freeze (unless overridden with a reason), upstream environments, soak time.
 */
export function decidePromotion(f: PromotionFacts): PromotionDecision {
  if (f.quarantine) {
    throw new PromotionError('QUARANTINED', `${f.image} is quarantined since ${f.quarantine.time} (${f.quarantine.gate} gate: ${f.quarantine.reason}); release it with: regman quarantine release ${f.digest} --reason …`);
  }
  if (f.hold && f.trigger !== 'rollback') {
    throw new PromotionError('HELD', `${f.edge.to} holds ${f.hold.repository} since ${f.hold.time} (by ${f.hold.by}: ${f.hold.reason}); release it with: regman hold release --env ${f.hold.environment} --repository ${f.hold.repository} --reason …`);
  }
  const window = activeFreezeWindow(f.freezeWindows, f.now);
  let freezeOverridden = false;
  if (window) {
    if (!f.overrideFreeze) {
      throw new PromotionError('FROZEN', `${f.to} is frozen from ${window.start} to ${window.end}${window.reason ? ` (${window.reason})` : ''}: ${f.image} was not promoted; to promote anyway: --override-freeze --reason …`);
    }
    if (!f.reason?.trim()) throw new PromotionError('BAD_INPUT', `--override-freeze needs --reason: say why ${f.image} must go into frozen ${f.to}`);
    freezeOverridden = true;
  }
  const soakMs = f.edge.soakHours * 3_600_000;
  for (const env of [...new Set([...(f.edge.requires ?? []), ...(soakMs > 0 ? [f.edge.from] : [])])]) {
    const entries = (f.history[env] ?? []).filter((h) => h.digest === f.digest);
    if (entries.length === 0) {
      if (f.edge.requires.includes(env)) throw new PromotionError('UPSTREAM_MISSING', `${f.image} was never promoted to ${env}, which ${f.edge.from} → ${f.edge.to} requires first`);
      continue; // soak on `from` counts from a promotion there; an image pushed straight into `from` has none.
    }
    const first = entries.map((e) => Date.parse(e.time)).reduce((a, b) => Math.min(a, b));
    const ready = first + soakMs;
    if (f.now.getTime() < ready) {
      const hours = ((ready - f.now.getTime()) / 3_600_000).toFixed(1);
      throw new PromotionError('SOAKING', `${f.image} reached ${env} at ${new Date(first).toISOString()}; ${f.edge.from} → ${f.edge.to} needs ${f.edge.soakHours} h of soak: ${hours} h to go`);
    }
  }
  return { freezeOverridden, ...(window ? { freezeWindow: window } : {}) };
}

/** The freeze window containing `now` (start inclusive, end exclusive), if any. */
export function activeFreezeWindow<W extends { readonly start: string; readonly end: string }>(windows: readonly W[], now: Date): W | undefined {
  const t = now.getTime();
  return windows.find((w) => Date.parse(w.start) <= t && t < Date.parse(w.end));
}

/**
 * The environment tag: `{env}`, `{tag}` and `{yyyyMMdd-HHmmss}` (UTC) replaced, e.g.
 * `prod-v1.2.3-20260125-143000`. Characters a tag may not hold become `-`, and it is cut at 128.
 */
export function renderEnvTag(template: string, values: { env: string; tag: string; time: Date }): string {
  const iso = values.time.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const raw = template.replaceAll('{env}', values.env).replaceAll('{tag}', values.tag).replaceAll('{yyyyMMdd-HHmmss}', stamp);
  const clean = raw.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '');
  return clean.slice(0, 128);
}

/**
 * Digests retention must keep per environment and repository: the one promoted last (what the
 * environment serves) and the one before it (the rollback target).
 */
export function promotionLocks(history: readonly PromotionHistoryEntry[]): Map<string, { environment: string; repository: string; role: 'current' | 'previous' }[]> {
  const byKey = new Map<string, PromotionHistoryEntry[]>();
  for (const h of history) {
    const key = `${h.environment}\u0000${h.repository}`;
    byKey.set(key, [...(byKey.get(key) ?? []), h]);
  }
  const locks = new Map<string, { environment: string; repository: string; role: 'current' | 'previous' }[]>();
  for (const entries of byKey.values()) {
    const sorted = [...entries].sort((a, b) => b.time.localeCompare(a.time));
    const distinct: string[] = [];
    for (const e of sorted) {
      if (!distinct.includes(e.digest)) distinct.push(e.digest);
      if (distinct.length === 2) break;
    }
    distinct.forEach((digest, i) => {
      const first = sorted[0]!;
      locks.set(digest, [...(locks.get(digest) ?? []), { environment: first.environment, repository: first.repository, role: i === 0 ? 'current' : 'previous' }]);
    });
  }
  return locks;
}
