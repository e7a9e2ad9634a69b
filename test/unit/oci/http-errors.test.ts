import { describe, it, expect } from 'vitest';
import { errorFromResponse, parseErrorBody } from '../../../functions/oci/http-errors.ts';

const body = (code: string, message = 'msg', detail?: unknown): string => JSON.stringify({ errors: [{ code, message, detail }] });

describe('errorFromResponse', () => {
  it.each([
    [404, body('MANIFEST_UNKNOWN', 'manifest unknown'), 'MANIFEST_UNKNOWN', false, 'Check that the tag or digest exists'],
    [404, body('BLOB_UNKNOWN', 'blob unknown to registry'), 'BLOB_UNKNOWN', false, 'blob'],
    [404, body('NAME_UNKNOWN', 'repository name not known to registry'), 'NAME_UNKNOWN', false, 'Check the repository name'],
    [400, body('MANIFEST_INVALID', 'manifest invalid'), 'MANIFEST_INVALID', false, 'rejected the manifest'],
    [400, body('MANIFEST_BLOB_UNKNOWN', 'blob unknown'), 'BLOB_UNKNOWN', false, 'push the blobs before'],
    [400, body('DIGEST_INVALID', 'provided digest did not match uploaded content'), 'DIGEST_MISMATCH', false, 'do not match'],
    [400, body('SIZE_INVALID'), 'SIZE_MISMATCH', false, ''],
    [401, body('UNAUTHORIZED', 'authentication required'), 'UNAUTHORIZED', false, 'Check the credentials for reg.example.com'],
    [403, body('DENIED', 'requested access to the resource is denied'), 'DENIED', false, 'lack permission on team/app'],
    [429, body('TOOMANYREQUESTS', 'slow down'), 'TOO_MANY_REQUESTS', true, 'rate-limiting'],
    [500, body('UNKNOWN', 'unknown error'), 'UNAVAILABLE', true, 'retry later'],
    [502, '<html>bad gateway</html>', 'UNAVAILABLE', true, 'bad gateway'],
    [503, '', 'UNAVAILABLE', true, 'retry later'],
    [404, '404 page not found', 'NOT_FOUND', false, '404 page not found'],
    [401, '', 'UNAUTHORIZED', false, 'Check the credentials'],
    [405, body('UNSUPPORTED', 'The operation is unsupported.'), 'UNSUPPORTED', false, 'unsupported'],
    [416, '', 'PROTOCOL', false, 'HTTP 416'],
  ])('maps HTTP %i %s to %s (retryable %s)', (status, text, code, retryable, words) => {
    // Act
    const err = errorFromResponse({ status, body: text, host: 'reg.example.com', repository: 'team/app', description: 'GET manifest team/app:1.0', retryAfterSeconds: 2 });
    // Assess
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.registry).toBe('reg.example.com');
    expect(err.retryAfterSeconds).toBe(2);
    expect(err.message).toContain('GET manifest team/app:1.0 failed on reg.example.com (repository team/app)');
    expect(err.message).toContain(words);
  });

  it('includes the registry message and detail', () => {
    const err = errorFromResponse({ status: 400, body: body('MANIFEST_INVALID', 'manifest invalid', { reason: 'bad layer' }), host: 'h', description: 'PUT manifest a:b' });
    expect(err.message).toContain('MANIFEST_INVALID: manifest invalid ({"reason":"bad layer"})');
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(errorFromResponse({ status: 500, body: '', host: 'h', description: 'x', cause }).cause).toBe(cause);
  });
});

describe('parseErrorBody', () => {
  it.each([
    [body('A', 'm'), [{ code: 'A', message: 'm' }]],
    ['{"errors":[{"code":"X"},{"nope":1},"str"]}', [{ code: 'X' }]],
    ['{"errors":"no"}', []],
    ['not json', []],
  ])('parses %s', (text, expected) => {
    expect(parseErrorBody(text)).toEqual(expected);
  });
});
