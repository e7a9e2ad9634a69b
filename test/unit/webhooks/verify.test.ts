// Webhook request verification: GitHub HMAC signatures, GitLab tokens, replayed deliveries.
import { describe, expect, it } from 'vitest';
import { checkDelivery, githubSignature, memoryDeliveryLog, verifyGithubSignature, verifyGitlabToken, WebhookAuthError } from '../../../functions/webhooks/verify.ts';

const SECRET = 'It\'s a Secret to Everybody';
const BODY = 'Hello, World!';

function problemOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookAuthError);
    return (err as WebhookAuthError).problem;
  }
}

describe('verifyGithubSignature', () => {
  it('computes GitHub\'s documented test vector', () => {
    // From GitHub's "Validating webhook deliveries" page: secret and payload above.
    expect(githubSignature(SECRET, BODY)).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });

  it.each([
    ['valid', { 'X-Hub-Signature-256': githubSignature(SECRET, BODY) }, BODY, [SECRET], undefined],
    ['valid with a rotated second secret', { 'x-hub-signature-256': githubSignature(SECRET, BODY) }, BODY, ['new', SECRET], undefined],
    ['missing', {}, BODY, [SECRET], 'missing-signature'],
    ['empty', { 'x-hub-signature-256': '' }, BODY, [SECRET], 'missing-signature'],
    ['signed with another secret', { 'x-hub-signature-256': githubSignature('other', BODY) }, BODY, [SECRET], 'bad-signature'],
    ['body changed after signing', { 'x-hub-signature-256': githubSignature(SECRET, BODY) }, `${BODY} `, [SECRET], 'bad-signature'],
    ['sha1 header shape', { 'x-hub-signature-256': 'sha1=abc' }, BODY, [SECRET], 'bad-signature'],
  ])('%s', (_name, headers, body, secrets, problem) => {
    expect(problemOf(() => verifyGithubSignature(headers, body, secrets))).toBe(problem);
  });
});

describe('verifyGitlabToken', () => {
  it.each([
    ['valid', { 'X-Gitlab-Token': 's3cret' }, undefined],
    ['missing', {}, 'missing-signature'],
    ['wrong', { 'x-gitlab-token': 's3cre' }, 'bad-signature'],
    ['wrong, same length', { 'x-gitlab-token': 's3creT' }, 'bad-signature'],
  ])('%s', (_name, headers, problem) => expect(problemOf(() => verifyGitlabToken(headers, ['s3cret']))).toBe(problem));
});

describe('checkDelivery', () => {
  it('accepts a delivery once and refuses its replay; ids are per provider', async () => {
    // Prepare
    const log = memoryDeliveryLog(2);
    // Act / Assess
    await expect(checkDelivery('github', { 'X-GitHub-Delivery': 'd1' }, log)).resolves.toBe('d1');
    await expect(checkDelivery('github', { 'x-github-delivery': 'd1' }, log)).rejects.toMatchObject({ problem: 'replayed' });
    await expect(checkDelivery('gitlab', { 'x-gitlab-event-uuid': 'd1' }, log)).resolves.toBe('d1');
    await expect(checkDelivery('gitlab', {}, log)).rejects.toMatchObject({ problem: 'missing-delivery-id' });
  });
});
