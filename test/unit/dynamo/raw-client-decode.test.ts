// The lean client's body decoding: ASCII bodies take the latin1 copy, anything else is UTF-8; both give the text DynamoDB sent.
import { describe, expect, it } from 'vitest';
import { decode } from '../../../functions/dynamo/raw-client.ts';

describe('decode', () => {
  it('reads an ASCII body as its text', () => {
    const text = '{"Items":[{"pk":{"S":"repo#a/b"},"n":{"N":"12"},"s":{"S":"\\"quoted\\" \\\\u00e9"}}],"Count":1}';
    expect(decode(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('reads non-ASCII characters (sent as they are, not escaped) as UTF-8, not latin1', () => {
    const text = '{"Items":[{"actor":{"S":"cli:josé"},"note":{"S":"中文 😀"}}]}';
    const out = decode(Buffer.from(text, 'utf8'));
    expect(out).toBe(text);
    expect(JSON.parse(out).Items[0].note.S).toBe('中文 😀');
  });

  it('reads an empty body as the empty string', () => {
    expect(decode(Buffer.alloc(0))).toBe('');
  });
});
