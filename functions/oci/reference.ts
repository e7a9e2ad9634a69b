// Image references: parse with every default applied (docker.io, library/, latest), format, and map to an endpoint.
// Grammar: https://github.com/distribution/reference/blob/main/regexp.go and the OCI distribution-spec
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests).
import { OciError } from './errors.ts';
import { digestProblem } from './digest.ts';
import { redact } from './redact.ts';
import type { Reference } from './types.ts';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** One host label; the whole host is labels joined by dots, or a bracketed IPv6 address, plus an optional port. */
const DOMAIN_RE = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
/** A path component: lowercase alphanumerics separated by ".", "_", "__" or dashes. */
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
/** distribution's limit on the repository name including the domain. */
const MAX_NAME_LENGTH = 255;

/** `user:pass@host/…` (no scheme): userinfo before the first slash. */
const USERINFO_RE = /^[^/@]+@(?=[^/]*\/)/;

function invalid(input: string, problem: string): OciError {
  // The reference (and a problem quoting part of it) may carry userinfo: never echo it.
  const hint = USERINFO_RE.test(input) ? '; credentials do not belong in a reference: give them in the registry configuration or the credential flags' : '';
  return new OciError(redact(`invalid reference "${input}": ${problem}${hint}`), { code: 'INVALID_REFERENCE' });
}

/** Why `repository` is not a valid repository path, or undefined when it is. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'the repository name is empty';
  if (repository !== repository.toLowerCase()) return `repository "${repository}" must be lowercase`;
  for (const part of repository.split('/')) {
    if (!PATH_COMPONENT_RE.test(part)) {
      return part === ''
        ? `repository "${repository}" has an empty path component (a leading, trailing or double "/")`
        : `repository path component "${part}" may only hold a-z, 0-9 and single ".", "_", "__" or "-" separators, starting and ending with a letter or digit`;
    }
  }
  return undefined;
}

/** Why `tag` is not a valid tag, or undefined when it is. */
export function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'the tag after ":" is empty';
  if (tag.length > 128) return `the tag is ${tag.length} characters long; at most 128 are allowed`;
  if (!TAG_RE.test(tag)) return `tag "${tag}" may only hold A-Z, a-z, 0-9, "_", "." and "-", and must not start with "." or "-"`;
  return undefined;
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]`. The first path component is a host when it contains
 * "." or ":" or is "localhost"; otherwise the registry is docker.io, where single-component names
 * get `library/`. Neither tag nor digest means `latest`.
 *
 * @example parseReference('alpine') // { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }
 * @example parseReference('127.0.0.1:5000/team/app@sha256:…') // { registry: '127.0.0.1:5000', repository: 'team/app', digest: 'sha256:…' }
 */
export function parseReference(input: string): Reference {
  if (input.trim() === '') throw invalid(input, 'it is empty; expected [registry/]repository[:tag][@digest]');
  if (/\s/.test(input)) throw invalid(input, 'it contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) throw invalid(input, problem);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    const problem = tagProblem(tag);
    if (problem !== undefined) throw invalid(input, problem);
  }
  if (rest === '') throw invalid(input, 'the repository name is missing');
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN_RE.test(first)) throw invalid(input, `"${first}" is not a valid registry host[:port]`);
    registry = first;
    repository = rest.slice(slash + 1);
  }
  if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) {
    registry = DEFAULT_REGISTRY;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  const problem = repositoryProblem(repository);
  if (problem !== undefined) throw invalid(input, problem);
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical text of a reference: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** Host the API is served from: docker.io's API lives at registry-1.docker.io. */
export function registryEndpoint(host: string): string {
  return DOCKER_HUB_ALIASES.has(host.toLowerCase()) ? 'registry-1.docker.io' : host;
}
