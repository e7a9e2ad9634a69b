// The safety valve, the plan's deterministic order, and inventory validation errors that name the path and value.
import { describe, expect, it } from 'vitest';
import { InventoryError, parseInventory, parsePolicy, planRetention, toPlanJson } from '../../../functions/retention/index.ts';
import { NOW, d, img } from './helpers.ts';

describe('safety valve', () => {
  const images = () => [img('a', ['a'], 100), img('b', ['b'], 100), img('c', ['c'], 100), img('d', ['d'], 1), img('child', [], 100)];
  // The untagged child belongs to d's index here, so it does not count as an image of its own.
  const withIndex = () => images().map((i) => (i.digest === d('d') ? { ...i, manifests: [d('child')] } : i));
  const policy = parsePolicy({ delete: { olderThanDays: 30 } });

  it('blocks a plan that expires more than maxDeleteShare of the images (default 0.5), and says why', () => {
    const plan = planRetention({ repository: 'app', images: withIndex() }, policy, { now: NOW });
    expect(plan.expire).toHaveLength(3);
    expect(plan.blocked).toEqual({
      share: 0.75,
      maxDeleteShare: 0.5,
      reason: 'the plan expires 3 of 4 images in app (75.0%), more than the allowed 50.0%; review it and re-run with force to apply',
    });
    expect(plan.forced).toBe(false);
  });

  it('lets force override the valve and records it', () => {
    const plan = planRetention({ repository: 'app', images: withIndex() }, policy, { now: NOW, force: true });
    expect(plan.blocked).toBeNull();
    expect(plan.forced).toBe(true);
  });

  it.each([
    { maxDeleteShare: 0.75, blocked: false },
    { maxDeleteShare: 0.74, blocked: true },
    { maxDeleteShare: 1, blocked: false },
  ])('uses the configured share $maxDeleteShare (blocked: $blocked)', ({ maxDeleteShare, blocked }) => {
    const plan = planRetention({ repository: 'app', images: withIndex() }, policy, { now: NOW, maxDeleteShare });
    expect(plan.blocked !== null).toBe(blocked);
  });

  it('rejects a share outside 0..1 and an invalid plan time', () => {
    expect(() => planRetention({ repository: 'app', images: [] }, policy, { now: NOW, maxDeleteShare: 2 })).toThrow(/between 0 and 1/);
    expect(() => planRetention({ repository: 'app', images: [] }, policy, { now: 'yesterday' })).toThrow(/invalid plan time yesterday/);
  });
});

describe('plan order and JSON contract', () => {
  it('lists every digest once, newest push first then by digest, with tags sorted', () => {
    const images = [img('x', ['b', 'a'], 5), img('y', [], 5), img('z', ['z'], 1)];
    const plan = planRetention({ repository: 'app', images }, parsePolicy({ delete: { untagged: true } }), { now: NOW, force: true });
    const json = toPlanJson(plan);
    expect(Object.keys(json).slice(0, 3)).toEqual(['expire', 'keep', 'bytesFreed']);
    expect(json.keep.map((k) => k.digest)).toEqual([d('z'), d('x')]);
    expect(json.keep[1]).toEqual({ digest: d('x'), tags: ['a', 'b'], reason: 'no deletion rule selects it' });
    expect(json.expire).toEqual([{ digest: d('y'), tags: [], rule: 'delete.untagged', reason: 'untagged manifest' }]);
  });
});

describe('inventory validation', () => {
  const good = { digest: d('a'), tags: ['v1'], pushedAt: '2024-01-01T00:00:00Z', lastPulledAt: null };
  it.each([
    { images: [{ ...good, digest: 'sha256:abc' }], path: 'images[0].digest', message: /64 lowercase hex/, value: 'sha256:abc' },
    { images: [{ ...good, pushedAt: 'last tuesday' }], path: 'images[0].pushedAt', message: /ISO-8601/, value: 'last tuesday' },
    { images: [{ ...good, tags: ['bad tag'] }], path: 'images[0].tags[0]', message: /not a valid tag/, value: 'bad tag' },
    { images: [good, { ...good }], path: 'images[1].digest', message: /duplicate of images\[0\]\.digest/, value: d('a') },
    { images: [good, { ...good, digest: d('b') }], path: 'images[1].tags[0]', message: /also on images\[0\]/, value: 'v1' },
    { images: [{ ...good, pulls: [{ day: '2024-1-1', count: 1 }] }], path: 'images[0].pulls[0].day', message: /YYYY-MM-DD/, value: '2024-1-1' },
    { images: [{ ...good, blobs: [{ digest: d('l'), size: -1 }] }], path: 'images[0].blobs[0].size', message: /Too small|>=0/, value: -1 },
  ])('names $path and the bad value', ({ images, path, message, value }) => {
    let error: unknown;
    try {
      parseInventory({ repository: 'app', images }, 'inv.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InventoryError);
    const issue = (error as InventoryError).issues.find((i) => i.path === path);
    expect(issue?.message).toMatch(message);
    expect(issue?.value).toEqual(value);
    expect((error as InventoryError).message).toMatch(/^invalid inventory in inv\.json: /);
  });

  it('accepts a missing lastPulledAt and tags as null and []', () => {
    const inv = parseInventory({ repository: 'app', images: [{ digest: d('a'), pushedAt: '2024-01-01T00:00:00+02:00' }] });
    expect(inv.images[0]).toMatchObject({ tags: [], lastPulledAt: null });
  });
});
