// Platform strings: parsing, aliases, variant matching and selection of index children.
import { describe, expect, it } from 'vitest';
import { formatPlatform, parsePlatform, platformMatches, selectPlatforms } from '../../../functions/oci/platform.ts';
import type { Descriptor } from '../../../functions/oci/types.ts';

describe('parsePlatform', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['Linux/ARM64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
  ])('%s', (text, want) => {
    expect(parsePlatform(text)).toEqual(want);
  });

  it.each(['linux', 'linux/', '/amd64', 'linux/arm/v7/x', 'linux amd64', ''])('rejects %j with the input quoted', (text) => {
    expect(() => parsePlatform(text)).toThrow(`invalid platform "${text}"`);
  });
});

describe('platformMatches', () => {
  it.each([
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v6' }, true],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v6' }, false],
    ['linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }, true],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }, true],
    ['linux/amd64', { os: 'windows', architecture: 'amd64' }, false],
    ['linux/amd64', undefined, false],
  ])('%s vs %j → %s', (want, have, expected) => {
    expect(platformMatches(parsePlatform(want), have)).toBe(expected);
  });
});

describe('selectPlatforms / formatPlatform', () => {
  const d = (architecture: string, variant?: string): Descriptor => ({
    mediaType: 'x',
    digest: `sha256:${architecture}${variant ?? ''}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const children = [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), { mediaType: 'x', digest: 'sha256:att', size: 1 }];

  it('keeps index order and ignores children without a platform', () => {
    expect(selectPlatforms(children, [parsePlatform('linux/arm'), parsePlatform('linux/amd64')]).map((c) => c.digest)).toEqual([
      'sha256:amd64',
      'sha256:armv6',
      'sha256:armv7',
    ]);
  });

  it('formats with and without a variant', () => {
    expect(children.map((c) => formatPlatform(c.platform))).toEqual(['linux/amd64', 'linux/arm/v6', 'linux/arm/v7', 'unknown']);
  });
});
