// Platforms (`os/arch[/variant]`): parse the CLI form, format a descriptor's platform, and match index children.
// Field meanings: https://github.com/opencontainers/image-spec/blob/main/image-index.md#image-index-property-descriptions
import { OciError } from './errors.ts';
import type { Descriptor, Platform } from './types.ts';

/** A wanted platform as written on the command line: `linux/amd64`, `linux/arm/v7`. */
export interface PlatformSpec {
  readonly os: string;
  readonly architecture: string;
  /** When absent, any variant matches (`linux/arm` matches `linux/arm/v6` and `linux/arm/v7`). */
  readonly variant?: string;
}

/** Common spellings that mean the same GOARCH (as `uname -m` or Debian print them). */
const ARCH_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
};

const PART_RE = /^[a-z0-9._-]+$/;

function normalise(p: { os: string; architecture: string; variant?: string | undefined }): PlatformSpec {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant ??= alias.variant;
  }
  // arm64 images omit the variant or write v8; they are the same thing.
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/**
 * Parses `os/arch[/variant]`. Throws INVALID_REFERENCE quoting the input when it is malformed.
 *
 * @example parsePlatform('linux/arm/v7') // { os: 'linux', architecture: 'arm', variant: 'v7' }
 */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !PART_RE.test(p.toLowerCase()))) {
    throw new OciError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`, {
      code: 'INVALID_REFERENCE',
    });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalise({ os, architecture, variant });
}

/** `os/arch[/variant]` of a platform, or `unknown` when the descriptor has none. */
export function formatPlatform(p: Platform | PlatformSpec | undefined): string {
  if (!p) return 'unknown';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** True when `have` is the platform `want` asks for (aliases normalised; no wanted variant = any variant). */
export function platformMatches(want: PlatformSpec, have: Platform | undefined): boolean {
  if (!have) return false;
  const w = normalise(want);
  const h = normalise(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || w.variant === h.variant;
}

/** The children of an index that match any of the wanted platforms, in index order. */
export function selectPlatforms(children: readonly Descriptor[], wanted: readonly PlatformSpec[]): Descriptor[] {
  return children.filter((d) => wanted.some((w) => platformMatches(w, d.platform)));
}
