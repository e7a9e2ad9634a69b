import { describe, it, expect } from 'vitest';
import { formatReference, parseReference, registryEndpoint } from '../../../functions/oci/reference.ts';
import { OciError } from '../../../functions/oci/errors.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['team/app', { registry: 'docker.io', repository: 'team/app', tag: 'latest' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['index.docker.io/library/alpine:edge', { registry: 'docker.io', repository: 'library/alpine', tag: 'edge' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b/c:v1', { registry: 'localhost:5000', repository: 'a/b/c', tag: 'v1' }],
    ['127.0.0.1:5000/team/app:1.0', { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0' }],
    ['ghcr.io/org/app', { registry: 'ghcr.io', repository: 'org/app', tag: 'latest' }],
    [`ghcr.io/org/app@${D}`, { registry: 'ghcr.io', repository: 'org/app', digest: D }],
    [`ghcr.io/org/app:v1@${D}`, { registry: 'ghcr.io', repository: 'org/app', tag: 'v1', digest: D }],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app:prod', { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'my-app', tag: 'prod' }],
    ['a/b__c/d-e--f.g_h', { registry: 'docker.io', repository: 'a/b__c/d-e--f.g_h', tag: 'latest' }],
    ['App.Example.com/x', { registry: 'App.Example.com', repository: 'x', tag: 'latest' }],
    [`x:${'T'.repeat(128)}`, { registry: 'docker.io', repository: 'library/x', tag: 'T'.repeat(128) }],
  ])('parses %s', (input, expected) => {
    // Act
    const ref = parseReference(input);
    // Assess
    expect(ref).toEqual(expected);
  });

  it.each([
    ['', 'it is empty'],
    ['Team/App', 'repository "Team/App" must be lowercase'],
    ['ghcr.io/Org/app', 'must be lowercase'],
    ['alpine:', 'the tag after ":" is empty'],
    [`alpine:${'t'.repeat(129)}`, 'the tag is 129 characters long; at most 128 are allowed'],
    ['alpine:-bad', 'tag "-bad" may only hold'],
    ['alpine:bad!tag', 'tag "bad!tag" may only hold'],
    ['alpine@sha256:abc', 'a sha256 digest has 64 hex characters, this one has 3'],
    [`alpine@sha256:${'A'.repeat(64)}`, 'must be lowercase hexadecimal'],
    [`alpine@sha512:${'a'.repeat(64)}`, 'a sha512 digest has 128 hex characters'],
    [`alpine@md5:${'a'.repeat(32)}`, 'digest algorithm "md5" is not supported'],
    ['alpine@', 'a digest is "<algorithm>:<hex>"'],
    ['ghcr.io//app', 'empty path component'],
    ['ghcr.io/app/', 'empty path component'],
    ['team/-app', 'repository path component "-app"'],
    ['team/app..x', 'repository path component "app..x"'],
    ['my registry/app', 'it contains whitespace'],
    ['bad_host.io:port/app', 'is not a valid registry host[:port]'],
    [`ghcr.io/${'a'.repeat(250)}`, 'longer than 255 characters'],
  ])('rejects %j, quoting it and saying %j', (input, problem) => {
    // Act
    const err = (() => {
      try {
        parseReference(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // Assess
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe('INVALID_REFERENCE');
    expect((err as OciError).message).toContain(`invalid reference "${input}"`);
    expect((err as OciError).message).toContain(problem);
  });
});

describe('formatReference and registryEndpoint', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    [`127.0.0.1:5000/a/b:v1@${D}`, `127.0.0.1:5000/a/b:v1@${D}`],
    [`ghcr.io/org/app@${D}`, `ghcr.io/org/app@${D}`],
  ])('round-trips %s', (input, text) => {
    expect(formatReference(parseReference(input))).toBe(text);
    expect(parseReference(text)).toEqual(parseReference(input));
  });

  it.each([
    ['docker.io', 'registry-1.docker.io'],
    ['index.docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('maps %s to the API host %s', (host, endpoint) => {
    expect(registryEndpoint(host)).toBe(endpoint);
  });
});
