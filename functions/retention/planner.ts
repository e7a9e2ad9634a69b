// planRetention: turns an inventory and a policy into a graph-aware plan that says, for every digest, expire or keep and why.
import { bytesFreed } from './bytes-freed.ts';
import { RetentionError } from './errors.ts';
import { buildGraph, type ImageGraph } from './graph.ts';
import { evaluatePolicy } from './policy.ts';
import { ORDER_UNKNOWN_RULE, evaluateOrderAware } from './unknown-order.ts';
import { youngestFirst, type Verdict } from './evaluation.ts';
import type { Inventory, InventoryImage, PlanOptions, RetentionDecision, RetentionPlan, RetentionPolicy } from './types.ts';

/** The share of a repository's images a plan may expire before the safety valve blocks it. */
export const DEFAULT_MAX_DELETE_SHARE = 0.5;

/**
 * Hours an untagged manifest is kept after its push, whatever the policy says: a multi-arch push
 * uploads its platform manifests untagged before the index that names them, and deleting them in that
 * window fails the push (`MANIFEST_BLOB_UNKNOWN`).
 */
export const DEFAULT_UNTAGGED_GRACE_HOURS = 24;

/** `sha256:0123456789ab`: a digest short enough for a reason. */
export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return digest.slice(0, i + 13);
}

function nowOf(now: Date | string): number {
  const t = now instanceof Date ? now.getTime() : Date.parse(now);
  if (Number.isNaN(t)) throw new RetentionError(`invalid plan time ${String(now)}: expected an ISO-8601 date-time`, 'INVALID_NOW');
  return t;
}

// A sweep plans thousands of repositories for one instant: its ISO form is written once, not per plan.
let lastNow = { ms: Number.NaN, iso: '' };
function isoOf(nowMs: number): string {
  if (lastNow.ms !== nowMs) lastNow = { ms: nowMs, iso: new Date(nowMs).toISOString() };
  return lastNow.iso;
}

function named(image: InventoryImage): string {
  return image.tags.length > 0 ? `${shortDigest(image.digest)} (${image.tags.join(', ')})` : shortDigest(image.digest);
}

/** Expiry of a digest the policy did not judge: it goes with its subject, or with its (all expiring) parent indexes. */
function expiryFromAnchor(digest: string, graph: ImageGraph, decided: Map<string, Verdict>, visiting: Set<string>): Verdict {
  const done = decided.get(digest);
  if (done) return done;
  if (visiting.has(digest)) return { action: 'expire', rule: 'graph', reason: 'part of a reference cycle with nothing kept' };
  visiting.add(digest);
  const via = graph.subjectOf.get(digest);
  let verdict: Verdict;
  if (via) {
    const anchor = expiryFromAnchor(via.subject, graph, decided, visiting);
    const subject = graph.byDigest.get(via.subject) as InventoryImage;
    verdict = { action: 'expire', rule: anchor.rule, reason: `referrer (${via.via}) of expiring ${named(subject)}` };
  } else {
    const parents = [...(graph.parents.get(digest) ?? [])].sort();
    const first = parents[0] as string;
    const anchor = expiryFromAnchor(first, graph, decided, visiting);
    const others = parents.length > 1 ? ` and ${parents.length - 1} other expiring index(es)` : '';
    verdict = { action: 'expire', rule: anchor.rule, reason: `untagged child of expiring index ${named(graph.byDigest.get(first) as InventoryImage)}${others}` };
  }
  visiting.delete(digest);
  decided.set(digest, verdict);
  return verdict;
}

/** Orders deletions so that nothing is deleted while an expiring index or referrer still points at it. */
function deletionOrder(expired: ReadonlySet<string>, graph: ImageGraph): string[] {
  const pending = new Map<string, number>();
  const edges = new Map<string, string[]>(); // x → nodes that may go once x is gone
  const add = (from: string, to: string) => {
    pending.set(to, (pending.get(to) ?? 0) + 1);
    const list = edges.get(from);
    if (list) list.push(to);
    else edges.set(from, [to]);
  };
  for (const d of expired) {
    for (const child of graph.children.get(d) ?? []) if (expired.has(child)) add(d, child);
    const via = graph.subjectOf.get(d);
    if (via && expired.has(via.subject)) add(d, via.subject);
  }
  const ready = [...expired].filter((d) => !pending.get(d)).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const d = ready.shift() as string;
    order.push(d);
    for (const next of edges.get(d) ?? []) {
      const left = (pending.get(next) as number) - 1;
      pending.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // Cycles cannot occur with content-addressed digests; append anything left so the order is complete.
  if (order.length < expired.size) {
    const placed = new Set(order);
    for (const d of [...expired].sort()) if (!placed.has(d)) order.push(d);
  }
  return order;
}

/**
 * Plans retention for one repository. Pure: the same inventory, policy and options give the same plan.
 *
 * Graph rules, applied after the policy's verdicts: a locked digest is kept; everything reachable from a
 * kept digest (children of an index, referrers of a subject) is kept; an untagged child or a referrer that
 * nothing kept reaches expires with its index or subject, under that one's rule.
 *
 * @example
 * const plan = planRetention(inventory, parsePolicy(doc), { now: '2024-06-01T00:00:00Z' });
 * for (const d of plan.expire) console.log(d.digest, d.rule, d.reason);
 */
export function planRetention(inventory: Inventory, policy: RetentionPolicy, options: PlanOptions): RetentionPlan {
  const nowMs = nowOf(options.now);
  const maxDeleteShare = options.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE;
  if (!(maxDeleteShare >= 0 && maxDeleteShare <= 1)) {
    throw new RetentionError(`maxDeleteShare must be between 0 and 1 (got ${maxDeleteShare})`, 'INVALID_OPTION');
  }
  const graceHours = options.untaggedGraceHours ?? DEFAULT_UNTAGGED_GRACE_HOURS;
  if (!(graceHours >= 0)) throw new RetentionError(`untaggedGraceHours must be 0 or more (got ${graceHours})`, 'INVALID_OPTION');
  const graph = buildGraph(inventory);
  const pushedMs = (image: InventoryImage) => graph.pushed.get(image.digest) as number;
  // Images with no trustworthy time: count and age rules decide only what holds wherever they fall (unknown-order.ts).
  const unknownTime = new Set(inventory.images.filter((i) => i.timeSource === 'unknown').map((i) => i.digest));
  const ctx = { nowMs, repository: inventory.repository, pushedMs };
  const evaluation = unknownTime.size === 0 ? evaluatePolicy(policy, graph.roots, inventory.images, ctx) : evaluateOrderAware(policy, graph.roots, inventory.images, ctx, unknownTime);
  const locks = options.lockedDigests;
  const locked: ReadonlyMap<string, string> =
    locks instanceof Map ? locks : new Map([...((locks as Iterable<string> | undefined) ?? [])].map((d) => [d, 'an active promotion']));
  const rootDigests = new Set(graph.roots.map((r) => r.digest));
  const hoursAgo = (image: InventoryImage): number => Math.max(0, Math.floor((nowMs - pushedMs(image)) / 3_600_000));
  // Untagged images only (not children or referrers: those follow their index or subject).
  const inGrace = (image: InventoryImage): boolean => graceHours > 0 && image.tags.length === 0 && rootDigests.has(image.digest) && nowMs - pushedMs(image) < graceHours * 3_600_000;

  // 1. Seeds: locked digests, the policy's keeps, and protections that hold for any digest.
  const kept = new Map<string, Verdict>();
  const queue: string[] = [];
  const keep = (digest: string, verdict: Verdict) => {
    if (kept.has(digest)) return;
    kept.set(digest, verdict);
    queue.push(digest);
  };
  for (const image of inventory.images) {
    const verdict = evaluation.verdicts.get(image.digest);
    if (locked.has(image.digest)) keep(image.digest, { action: 'keep', rule: 'lock', reason: `locked by ${locked.get(image.digest)}` });
    else if (verdict?.action === 'keep') keep(image.digest, verdict);
    else if (inGrace(image)) {
      keep(image.digest, {
        action: 'keep', rule: 'grace.untagged',
        reason: unknownTime.has(image.digest)
          ? `untagged, with no known push time: the ${graceHours} h grace period cannot be checked (a push may still be in progress), so it is kept`
          : `untagged and pushed ${hoursAgo(image)} h ago, within the ${graceHours} h grace period (a push may still be in progress)`,
      });
    }
    else {
      const protection = evaluation.protections.get(image.digest);
      if (protection) keep(image.digest, protection);
    }
  }
  // 2. Everything a kept digest reaches is kept: the children of a kept index, the referrers of a kept subject.
  for (let i = 0; i < queue.length; i++) {
    const from = queue[i] as string;
    const fromImage = graph.byDigest.get(from) as InventoryImage;
    for (const child of graph.children.get(from) ?? []) {
      const overridden = evaluation.verdicts.get(child);
      const note = overridden?.action === 'expire' ? ` (the policy alone would expire it: ${overridden.reason})` : '';
      keep(child, { action: 'keep', rule: 'graph.index-child', reason: `child of kept index ${named(fromImage)}${note}` });
    }
    for (const ref of graph.referrers.get(from) ?? []) {
      const via = graph.subjectOf.get(ref)?.via ?? 'subject';
      keep(ref, { action: 'keep', rule: 'graph.referrer', reason: `referrer (${via}) of kept ${named(fromImage)}` });
    }
  }
  // 3. The rest expires: judged images under their rule, the others with their index or subject.
  const decided = new Map<string, Verdict>(kept);
  for (const image of graph.roots) {
    const verdict = evaluation.verdicts.get(image.digest);
    if (!decided.has(image.digest) && verdict) decided.set(image.digest, verdict);
  }
  const order = youngestFirst(inventory.images, pushedMs);
  const decisions: RetentionDecision[] = order.map((image) => {
    const v = decided.get(image.digest) ?? expiryFromAnchor(image.digest, graph, decided, new Set());
    return {
      digest: image.digest,
      tags: [...image.tags].sort(),
      action: v.action,
      rule: v.rule,
      reason: v.reason,
      role: graph.role.get(image.digest) ?? 'image',
      pushedAt: image.pushedAt,
      timeSource: image.timeSource ?? 'registry',
    };
  });
  const expire = decisions.filter((d) => d.action === 'expire');
  const keepList = decisions.filter((d) => d.action === 'keep');

  // 4. Safety valve over the images a user sees (children and referrers follow their parents).
  const expiring = new Set(expire.map((d) => d.digest));
  const rootCount = graph.roots.length;
  const expiringRoots = graph.roots.filter((i) => expiring.has(i.digest)).length;
  const share = rootCount === 0 ? 0 : expiringRoots / rootCount;
  const tripped = share > maxDeleteShare;
  const blocked = tripped && !options.force
    ? {
        reason: `the plan expires ${expiringRoots} of ${rootCount} images in ${inventory.repository} (${(share * 100).toFixed(1)}%), more than the allowed ${(maxDeleteShare * 100).toFixed(1)}%; review it and re-run with force to apply`,
        share,
        maxDeleteShare,
      }
    : null;

  const freed = bytesFreed(
    inventory.images.filter((i) => expiring.has(i.digest)),
    inventory.images.filter((i) => !expiring.has(i.digest)),
  );
  const warnings = [...evaluation.warnings];
  const orderBlocked = decisions.filter((d) => d.rule === ORDER_UNKNOWN_RULE).map((d) => d.digest);
  if (unknownTime.size > 0) {
    warnings.push(
      `${unknownTime.size} image(s) have no trustworthy time (the registry records no push time, and they carry no created date): ` +
        `count and age rules do not rank them${orderBlocked.length > 0 ? `, so ${orderBlocked.length} deletion(s) are blocked (rule ${ORDER_UNKNOWN_RULE})` : ''}`,
    );
  }
  if (freed.estimated) warnings.push('bytesFreed is an estimate: some images list no blobs, so sizeBytes stood in and shared layers could not be seen');
  return {
    repository: inventory.repository,
    policyFormat: policy.format,
    now: isoOf(nowMs),
    decisions,
    expire,
    keep: keepList,
    bytesFreed: freed.bytes,
    bytesFreedEstimated: freed.estimated,
    blocked,
    forced: tripped && Boolean(options.force),
    deleteOrder: deletionOrder(expiring, graph),
    orderBlocked,
    warnings,
  };
}

