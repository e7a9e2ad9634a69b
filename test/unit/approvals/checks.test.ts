import { describe, expect, it } from 'vitest';
import {
  checkApprover,
  checkCsrf,
  checkLinkSignature,
  checkLinkUnused,
  checkNotExpired,
  checkSeparationOfDuties,
  checkSlackSignature,
  identityMatches,
} from '../../../functions/approvals/checks.ts';
import { isApprovalError } from '../../../functions/approvals/errors.ts';
import { csrfToken, linkSignature, linkToken, parseLinkToken, randomId, slackSignature } from '../../../functions/approvals/signing.ts';
import type { ApprovalLink } from '../../../functions/approvals/types.ts';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const LINK: ApprovalLink = {
  linkId: 'AAAAAAAAAAAAAAAAAAAAAA',
  requestId: 'exec-1',
  executionId: 'exec-1',
  approver: 'alice@example.com',
  channel: 'email',
  expiresAt: '2030-01-01T00:00:00.000Z',
};

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return isApprovalError(err) ? `${err.code}:${err.status}` : String(err);
  }
}

describe('link tokens', () => {
  it('carries only the random id and a signature, and round-trips', () => {
    const token = linkToken(KEY, LINK);
    expect(token.split('.')[0]).toBe(LINK.linkId);
    expect(token).not.toContain('alice');
    const parsed = parseLinkToken(token);
    expect(parsed?.linkId).toBe(LINK.linkId);
    expect(codeOf(() => checkLinkSignature(KEY, LINK, parsed!.signature, 'exec-1'))).toBeUndefined();
  });

  it.each([
    ['another approver', { approver: 'mallory@example.com' }],
    ['a later expiry', { expiresAt: '2031-01-01T00:00:00.000Z' }],
    ['another request', { requestId: 'exec-2' }],
    ['another execution', { executionId: 'exec-2' }],
  ])('refuses a signature made for %s (tampering)', (_name, change) => {
    const signature = linkSignature(KEY, { ...LINK, ...change });
    expect(codeOf(() => checkLinkSignature(KEY, LINK, signature))).toBe('APPROVAL_BAD_SIGNATURE:403');
  });

  it('refuses a signature made with another key (forged)', () => {
    expect(codeOf(() => checkLinkSignature(KEY, LINK, linkSignature(OTHER_KEY, LINK)))).toBe('APPROVAL_BAD_SIGNATURE:403');
  });

  it('refuses a good link used for another execution', () => {
    expect(codeOf(() => checkLinkSignature(KEY, LINK, linkSignature(KEY, LINK), 'exec-9'))).toBe('APPROVAL_WRONG_EXECUTION:403');
  });

  it('refuses expired and used links', () => {
    expect(codeOf(() => checkNotExpired(LINK.expiresAt, new Date('2030-01-01T00:00:00.000Z')))).toBe('APPROVAL_LINK_EXPIRED:410');
    expect(codeOf(() => checkNotExpired(LINK.expiresAt, new Date('2029-12-31T23:59:59.000Z')))).toBeUndefined();
    expect(codeOf(() => checkLinkUnused({ ...LINK, usedAt: '2029-01-01T00:00:00Z' }))).toBe('APPROVAL_LINK_USED:409');
    expect(codeOf(() => checkLinkUnused(LINK))).toBeUndefined();
  });

  it('parses only well-formed tokens', () => {
    expect(parseLinkToken('nope')).toBeUndefined();
    expect(parseLinkToken(`${randomId()}.short`)).toBeUndefined();
  });
});

describe('CSRF tokens', () => {
  const now = new Date('2029-06-01T12:00:00.000Z');
  const view = randomId();
  const token = csrfToken(KEY, LINK.linkId, view, now.getTime());

  it.each([
    ['the token issued for this link', token, now, undefined],
    ['a missing token', undefined, now, 'APPROVAL_CSRF_MISSING:403'],
    ['an empty token', '', now, 'APPROVAL_CSRF_MISSING:403'],
    ['garbage', 'abc', now, 'APPROVAL_CSRF_INVALID:403'],
    ['a token for another link', csrfToken(KEY, 'BBBBBBBBBBBBBBBBBBBBBB', view, now.getTime()), now, 'APPROVAL_CSRF_INVALID:403'],
    ['a token signed with another key', csrfToken(OTHER_KEY, LINK.linkId, view, now.getTime()), now, 'APPROVAL_CSRF_INVALID:403'],
    ['a token older than an hour', token, new Date(now.getTime() + 61 * 60_000), 'APPROVAL_CSRF_INVALID:403'],
  ])('%s', (_name, value, at, expected) => {
    expect(codeOf(() => checkCsrf(KEY, LINK.linkId, value, at))).toBe(expected);
  });
});

describe('approvers and separation of duties', () => {
  it('matches e-mail case-insensitively and IAM principals by their last segment', () => {
    expect(identityMatches('Alice@Example.com', 'alice@example.com')).toBe(true);
    expect(identityMatches('alice', 'arn:aws:sts::123456789012:assumed-role/Ops/alice')).toBe(true);
    expect(identityMatches('alice', 'arn:aws:sts::123456789012:assumed-role/alice/bob')).toBe(false);
    expect(codeOf(() => checkApprover(['alice', 'bob'], 'carol'))).toBe('APPROVAL_WRONG_APPROVER:403');
    expect(checkApprover(['alice', 'bob'], 'arn:aws:iam::1:user/bob')).toBe('bob');
  });

  it.each([
    ['the requester', { requester: 'cli:alice' }, 'alice', 'APPROVAL_SEPARATION_OF_DUTIES:403'],
    ['the requester by e-mail', { requester: 'alice@example.com' }, 'alice@example.com', 'APPROVAL_SEPARATION_OF_DUTIES:403'],
    ['the pusher', { requester: 'cli:rita', pusher: 'arn:aws:sts::1:assumed-role/ci/alice' }, 'alice', 'APPROVAL_SEPARATION_OF_DUTIES:403'],
    ['someone else', { requester: 'cli:rita', pusher: 'paul' }, 'alice', undefined],
  ])('refuses approval by %s', (_name, who, approver, expected) => {
    expect(codeOf(() => checkSeparationOfDuties({ requestId: 'r', ...who }, approver, approver))).toBe(expected);
  });
});

describe('Slack request signatures', () => {
  const secret = 'slack-signing-secret';
  const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
  const now = new Date('2029-06-01T12:00:00.000Z');
  const ts = String(Math.floor(now.getTime() / 1000));

  it.each([
    ['valid', { timestamp: ts, signature: slackSignature(secret, ts, body) }, body, undefined],
    ['stale (6 minutes old)', { timestamp: String(Number(ts) - 360), signature: slackSignature(secret, String(Number(ts) - 360), body) }, body, 'APPROVAL_SLACK_SIGNATURE:401'],
    ['forged (other secret)', { timestamp: ts, signature: slackSignature('guess', ts, body) }, body, 'APPROVAL_SLACK_SIGNATURE:401'],
    ['body changed', { timestamp: ts, signature: slackSignature(secret, ts, body) }, `${body}x`, 'APPROVAL_SLACK_SIGNATURE:401'],
    ['headers missing', {}, body, 'APPROVAL_SLACK_SIGNATURE:401'],
  ])('%s', (_name, headers, raw, expected) => {
    expect(codeOf(() => checkSlackSignature(secret, headers, raw, now))).toBe(expected);
  });

  it('matches the example in Slack\'s documentation', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (worked example).
    const docBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', docBody)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });
});
