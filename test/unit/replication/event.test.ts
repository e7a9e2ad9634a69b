// parseImageActionEvent against the AWS-published samples (test/fixtures/ecr-events) and hand-made malformed events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ReplicationEventError } from '../../../functions/replication/errors.ts';
import { eventIdOf, imageActionEvent, parseImageActionEvent } from '../../../functions/replication/event.ts';

const SAMPLES = fileURLToPath(new URL('../../fixtures/ecr-events', import.meta.url));
const DIGEST = `sha256:${'ab'.repeat(32)}`;

function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SAMPLES, name), 'utf8')) as Record<string, unknown>;
}

/** The sample with a well-formed digest (the published one has 60 hex characters, see SOURCE.md). */
function fixedDigest(name: string): Record<string, unknown> {
  const e = sample(name);
  return { ...e, detail: { ...(e.detail as object), 'image-digest': DIGEST } };
}

function rejection(event: unknown): ReplicationEventError {
  try {
    parseImageActionEvent(event);
  } catch (err) {
    expect(err).toBeInstanceOf(ReplicationEventError);
    return err as ReplicationEventError;
  }
  throw new Error('expected the event to be rejected');
}

describe('parseImageActionEvent: AWS samples', () => {
  it('maps the push sample (with a well-formed digest) to plain fields', () => {
    // Act
    const e = parseImageActionEvent(fixedDigest('ecr-image-action-push-success.json'));
    // Assess
    expect(e).toEqual({
      id: '13cde686-328b-6117-af20-0e5566167482',
      time: '2019-11-16T01:54:34Z',
      account: '123456789012',
      region: 'us-west-2',
      repository: 'my-repository-name',
      digest: DIGEST,
      tag: 'latest',
      actionType: 'PUSH',
      result: 'SUCCESS',
    });
  });

  it('parses the delete sample as a DELETE action (the caller skips it)', () => {
    const e = parseImageActionEvent(fixedDigest('ecr-image-action-delete-success.json'));
    expect([e.actionType, e.result, e.tag]).toEqual(['DELETE', 'SUCCESS', 'latest']);
  });

  it('parses the archive sample (UPDATE_STORAGE_CLASS, no tag, with media type)', () => {
    const e = parseImageActionEvent(sample('ecr-image-action-archive.json'));
    expect(e.actionType).toBe('UPDATE_STORAGE_CLASS');
    expect(e.tag).toBeUndefined();
    expect(e.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('accepts the event as a JSON string', () => {
    const raw = JSON.stringify(fixedDigest('ecr-image-action-push-success.json'));
    expect(parseImageActionEvent(raw).digest).toBe(DIGEST);
  });

  it.each([
    ['ecr-image-action-push-success.json', 'detail.image-digest', /64 hex characters, this one has 60/],
    ['ecr-image-action-delete-success.json', 'detail.image-digest', /64 hex characters, this one has 60/],
    ['ecr-replication-action-failed.json', 'detail-type', /expected "ECR Image Action", got "ECR Replication Action"/],
    ['ecr-referrer-action-restore.json', 'detail-type', /got "ECR Referrer Action"/],
    ['ecr-pull-through-cache-action.json', 'detail-type', /got "ECR Pull Through Cache Action"/],
    ['ecr-image-scan-basic-complete.json', 'detail-type', /got "ECR Image Scan"/],
    ['eventbridge-cloudtrail-putimage.json', 'detail-type', /CloudTrail API call \("PutImage"\) is not an image action/],
    ['cloudtrail-record-putimage.json', 'source', /expected "aws.ecr", got undefined/],
  ])('rejects the published %s naming %s', (file, field, message) => {
    // Act
    const err = rejection(sample(file));
    // Assess
    expect(err.code).toBe('EVENT_INVALID');
    expect(err.retryable).toBe(false);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('rejects the verbatim pull-through-cache sample (trailing comma) as invalid JSON', () => {
    const err = rejection(readFileSync(join(SAMPLES, 'ecr-pull-through-cache-action.verbatim.txt'), 'utf8'));
    expect(err.field).toBe('');
    expect(err.message).toMatch(/not valid JSON/);
  });
});

describe('parseImageActionEvent: malformed fields', () => {
  const good = imageActionEvent({ id: 'e-1', repository: 'team/app', digest: DIGEST, tag: 'v1', account: '123456789012', region: 'eu-west-1', time: '2024-05-08T20:45:12Z' });
  const withDetail = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...good, detail: { ...(good.detail as object), ...patch } });

  it.each([
    ['a digest with non-hex characters', withDetail({ 'image-digest': `sha256:${'g'.repeat(64)}` }), 'detail.image-digest', /lowercase hexadecimal/],
    ['an unknown digest algorithm', withDetail({ 'image-digest': `md5:${'a'.repeat(32)}` }), 'detail.image-digest', /"md5" is not supported/],
    ['a missing digest', withDetail({ 'image-digest': undefined }), 'detail.image-digest', /missing/],
    ['an upper-case repository', withDetail({ 'repository-name': 'Team/App' }), 'detail.repository-name', /must be lowercase/],
    ['a tag with a slash', withDetail({ 'image-tag': 'v1/x' }), 'detail.image-tag', /may only hold/],
    ['a missing action-type', withDetail({ 'action-type': undefined }), 'detail.action-type', /missing/],
    ['a 10-digit account', { ...good, account: '1234567890' }, 'account', /12-digit AWS account id \(got "1234567890"\)/],
    ['a date that does not exist', { ...good, time: '2023-02-29T02:36:48Z' }, 'time', /a date that exists/],
    ['an id with spaces', { ...good, id: 'not an id' }, 'id', /event id/],
    ['no detail', { ...good, detail: undefined }, 'detail', /missing/],
  ])('rejects %s', (_name, event, field, message) => {
    const err = rejection(event);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['null', null, /got null/],
    ['an array', [], /got an array/],
    ['a number', 42, /got number/],
  ])('rejects %s as a whole', (_name, event, message) => {
    const err = rejection(event);
    expect(err.field).toBe('');
    expect(err.message).toMatch(message);
  });

  it('names every bad field at once', () => {
    const err = rejection({ ...withDetail({ 'image-digest': 'sha256:1', 'repository-name': '' }), region: 'mars' });
    expect(err.issues.map((i) => i.path).sort()).toEqual(['detail.image-digest', 'detail.repository-name', 'region']);
  });

  it('keeps unknown action types and results (skipped later, not rejected)', () => {
    const e = parseImageActionEvent(withDetail({ 'action-type': 'RETAG', result: 'FAILURE' }));
    expect([e.actionType, e.result]).toEqual(['RETAG', 'FAILURE']);
  });
});

describe('eventIdOf', () => {
  it('returns a usable id only', () => {
    expect(eventIdOf({ id: 'abc-1' })).toBe('abc-1');
    expect(eventIdOf({ id: 'has space' })).toBeUndefined();
    expect(eventIdOf({ id: 3 })).toBeUndefined();
    expect(eventIdOf('x')).toBeUndefined();
  });
});
