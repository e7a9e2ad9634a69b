// Record validation, redaction and bounds at append time; query time bounds.
import { describe, expect, it } from 'vitest';
import { isAuditError } from '../../../functions/audit/errors.ts';
import { MAX_DETAILS_LENGTH, MAX_ERROR_MESSAGE_LENGTH, normalizeAuditRecord } from '../../../functions/audit/normalize.ts';
import { redactAuditText } from '../../../functions/audit/redact.ts';
import { parseTimeBound } from '../../../functions/audit/time-bounds.ts';
import type { AuditRecordInput } from '../../../functions/audit/types.ts';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const base: AuditRecordInput = { actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'evt-1' };

describe('normalizeAuditRecord', () => {
  it('fills time with now and drops absent fields', () => {
    expect(normalizeAuditRecord(base, NOW)).toEqual({ ...base, time: '2025-03-01T12:00:00.000Z' });
  });

  it('normalises an ISO time with an offset to UTC with milliseconds', () => {
    expect(normalizeAuditRecord({ ...base, time: '2025-03-01T14:00:00+02:00' }, NOW).time).toBe('2025-03-01T12:00:00.000Z');
  });

  it('keeps every documented field', () => {
    // Prepare
    const input: AuditRecordInput = {
      ...base,
      time: NOW,
      source: 'ecr-main',
      target: 'gar-eu',
      registry: 'ecr-main',
      repository: 'team/app',
      digest: 'sha256:' + 'a'.repeat(64),
      tags: ['1.0', 'latest'],
      bytes: 1234,
      blobs: { uploaded: 2, mounted: 1, skipped: 3 },
      durationMs: 42.5,
      errorCode: 'UNAVAILABLE',
      errorMessage: 'target down',
      details: { attempt: 2, platforms: ['linux/amd64'] },
    };

    // Act
    const record = normalizeAuditRecord(input, NOW);

    // Assess
    expect(record).toEqual({ ...input, time: NOW.toISOString() });
  });

  it.each([
    ['a missing actor', { ...base, actor: undefined }, /actor/],
    ['an unknown outcome', { ...base, outcome: 'ok' }, /outcome/],
    ['an action with capitals', { ...base, action: 'Replicate' }, /action: must be dotted lower-case/],
    ['a digest without algorithm', { ...base, digest: 'abc' }, /digest: must be an OCI digest/],
    ['negative bytes', { ...base, bytes: -1 }, /bytes/],
    ['a misspelt field', { ...base, reposiotry: 'x' }, /reposiotry|Unrecognized/i],
    ['a time without zone', { ...base, time: '2025-03-01T12:00:00' }, /time: "2025-03-01T12:00:00" is not an ISO 8601/],
    ['a time in prose', { ...base, time: 'March 7' }, /time/],
    ['details that are not JSON', { ...base, details: { d: new Date() } }, /details/],
  ])('rejects %s with AUDIT_RECORD_INVALID', (_name, input, message) => {
    // Act
    let caught: unknown;
    try {
      normalizeAuditRecord(input as AuditRecordInput, NOW);
    } catch (err) {
      caught = err;
    }

    // Assess
    expect(isAuditError(caught, 'AUDIT_RECORD_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('accepts promote.* and other dotted actions', () => {
    expect(normalizeAuditRecord({ ...base, action: 'promote.approve' }, NOW).action).toBe('promote.approve');
    expect(normalizeAuditRecord({ ...base, action: 'event.rejected', outcome: 'rejected' }, NOW).outcome).toBe('rejected');
  });

  it('redacts secrets in the error message, the details and the endpoints', () => {
    // Prepare
    const canary = 'CANARY-s3cr3t-9f8e7d';
    const input: AuditRecordInput = {
      ...base,
      outcome: 'failure',
      source: `https://robot:${canary}@registry.example`,
      errorMessage: `GET https://robot:${canary}@registry.example/v2/ failed; password=${canary}; Authorization: Bearer ${canary}`,
      details: { request: { url: `https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=${canary}&X-Amz-Credential=AKIAABCDEFGHIJKLMNOP` } },
    };

    // Act
    const record = normalizeAuditRecord(input, NOW);

    // Assess
    expect(JSON.stringify(record)).not.toContain(canary);
    expect(JSON.stringify(record)).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(record.errorMessage).toContain('registry.example/v2/ failed');
    expect(record.source).toBe('https://***@registry.example');
  });

  it('truncates a long error message after redacting it', () => {
    const record = normalizeAuditRecord({ ...base, errorMessage: 'x'.repeat(10_000) }, NOW);
    expect(record.errorMessage?.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
    expect(record.errorMessage).toMatch(/\[truncated\]$/);
  });

  it('replaces oversized details with a marker instead of failing the append', () => {
    const record = normalizeAuditRecord({ ...base, details: { blob: 'y'.repeat(MAX_DETAILS_LENGTH) } }, NOW);
    expect(record.details).toEqual({ truncated: true, originalLength: MAX_DETAILS_LENGTH + 11 });
  });
});

describe('redactAuditText', () => {
  it.each([
    ['a SigV4 pre-signed URL', 'https://b.s3.amazonaws.com/k?X-Amz-Security-Token=tok123&X-Amz-Signature=abc123', /X-Amz-Security-Token=\*\*\*&X-Amz-Signature=\*\*\*/],
    ['an AWS access key id', 'key ASIAABCDEFGHIJKLMNOP used', /key \*\*\* used/],
    ['a PEM private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----', /^\*\*\*$/],
    ['a JSON secret field', '{"secretAccessKey":"wJalrXUtnFEMI"}', /"secretAccessKey": "\*\*\*"/],
  ])('removes %s', (_name, text, expected) => {
    expect(redactAuditText(text)).toMatch(expected);
  });

  it('leaves ordinary text alone', () => {
    expect(redactAuditText('blob sha256:abc upload failed: 503 Service Unavailable')).toBe('blob sha256:abc upload failed: 503 Service Unavailable');
  });
});

describe('parseTimeBound', () => {
  it.each([
    ['24h', '2025-02-28T12:00:00.000Z'],
    ['30m', '2025-03-01T11:30:00.000Z'],
    ['7d', '2025-02-22T12:00:00.000Z'],
    ['1w', '2025-02-22T12:00:00.000Z'],
    ['90s', '2025-03-01T11:58:30.000Z'],
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
    ['2025-01-31T08:00:00+01:00', '2025-01-31T07:00:00.000Z'],
  ])('reads %s', (value, expected) => {
    expect(parseTimeBound(value, NOW)).toBe(expected);
  });

  it('accepts a Date', () => {
    expect(parseTimeBound(new Date('2025-01-01T00:00:00Z'), NOW)).toBe('2025-01-01T00:00:00.000Z');
  });

  it('rejects nonsense with AUDIT_QUERY_INVALID, naming the field and the forms', () => {
    expect(() => parseTimeBound('yesterday', NOW, 'until')).toThrow(/until: "yesterday" is not a date-time \(use ISO 8601/);
  });
});
