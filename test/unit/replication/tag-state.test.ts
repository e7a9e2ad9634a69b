// blocksApply: which recorded event forbids publishing an incoming one (the rule the conditional write enforces).
import { describe, expect, it } from 'vitest';
import { blocksApply, doneKey, eventTimeMs, type AppliedTag } from '../../../functions/replication/tag-state.ts';

const at = (eventTime: number, digest: string): AppliedTag => ({ eventTime, digest, correlationId: `e-${eventTime}-${digest}` });

describe('blocksApply', () => {
  it.each([
    { name: 'nothing recorded', recorded: undefined, incoming: at(1000, 'A'), confirmed: false, blocks: false },
    { name: 'a newer event with another digest', recorded: at(2000, 'B'), incoming: at(1000, 'A'), confirmed: true, blocks: true },
    { name: 'a newer event with the same digest', recorded: at(2000, 'A'), incoming: at(1000, 'A'), confirmed: false, blocks: false },
    { name: 'an older event', recorded: at(1000, 'A'), incoming: at(2000, 'B'), confirmed: false, blocks: false },
    { name: 'the same second, another digest, source confirmed', recorded: at(1000, 'A'), incoming: at(1000, 'B'), confirmed: true, blocks: false },
    { name: 'the same second, another digest, source unreachable', recorded: at(1000, 'A'), incoming: at(1000, 'B'), confirmed: false, blocks: true },
  ])('$name → blocks: $blocks', ({ recorded, incoming, confirmed, blocks }) => {
    expect(blocksApply(recorded, incoming, { sourceConfirmed: confirmed })).toBe(blocks);
  });
});

describe('eventTimeMs and doneKey', () => {
  it('reads EventBridge times and treats an unreadable one as older than anything', () => {
    expect(eventTimeMs('2019-11-16T01:54:34Z')).toBe(Date.UTC(2019, 10, 16, 1, 54, 34));
    expect(eventTimeMs('yesterday')).toBe(0);
  });
  it('keys a target by rule and registry', () => {
    expect(doneKey('mirror', 'target-a')).toBe('mirror#target-a');
  });
});
