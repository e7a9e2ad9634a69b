import { describe, expect, it } from 'vitest';
import { OciError, isNotFoundError } from '../../../functions/oci/errors.ts';

describe('isNotFoundError', () => {
  it('is true for an unknown manifest, a plain 404 and an unknown repository, and false otherwise', () => {
    for (const code of ['MANIFEST_UNKNOWN', 'NOT_FOUND', 'NAME_UNKNOWN'] as const) expect(isNotFoundError(new OciError('gone', { code })), code).toBe(true);
    for (const code of ['UNAUTHORIZED', 'DENIED', 'BLOB_UNKNOWN'] as const) expect(isNotFoundError(new OciError('no', { code })), code).toBe(false);
    expect(isNotFoundError(new Error('NAME_UNKNOWN'))).toBe(false);
    expect(isNotFoundError(undefined)).toBe(false);
  });
});
