// What the replication functions may touch, derived from the validated config: ECR repositories, secrets, roles, event filter.
//
// Pure data, no CDK: lib/config-grants.ts turns it into IAM statements and the EventBridge pattern.
// Every scope is a SUPERSET of the names the config can match (IAM must allow all of them), and as
// narrow as a literal prefix allows: `team-a/*` → prefix `team-a/`, `/^base\/(alpine|debian)$/` →
// prefix `base/`. ECR repository names are `[a-z0-9._/-]`, so any other character ends the prefix.
import type { CredentialReference, RegistryConfig, RegmanConfig, ReplicationTarget } from '../functions/config/index.ts';
import { isRegexPattern } from '../functions/config/index.ts';

/** A set of repository names: one exact name, or every name starting with `prefix` (`''` = all). */
export type NameScope = { readonly exact: string } | { readonly prefix: string };

/** The repositories of one ECR registry that a function reads or writes with its own IAM role. */
export interface EcrRepositoryScope {
  readonly registry: string;
  readonly accountId: string;
  readonly region: string;
  readonly names: readonly NameScope[];
}

/** A Secrets Manager secret the config names, as written. */
export interface SecretScope {
  readonly registry: string;
  readonly secretArn?: string;
  readonly secretName?: string;
}

/** An ECR-sourced push filter for the EventBridge rule; `repositoryNames` undefined = every repository. */
export interface PushEventFilter {
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly repositoryNames?: readonly NameScope[];
}

/** Everything the replicate and reconcile functions need access to. */
export interface ReplicationAccess {
  /** ECR registries used as a source with the function's own role: pull actions only. */
  readonly sources: readonly EcrRepositoryScope[];
  /** ECR registries used as a target with the function's own role: push (and the HEAD/list reads a copy needs). */
  readonly targets: readonly EcrRepositoryScope[];
  /** Secrets of the registries that replication rules use (no other registry's secret). */
  readonly secrets: readonly SecretScope[];
  /** `credentials.iamRole` of the ECR registries that replication rules use: the role carries the ECR rights. */
  readonly roles: readonly string[];
  /** True when some ECR registry is reached with the function's own role (needs ecr:GetAuthorizationToken). */
  readonly usesOwnEcrIdentity: boolean;
  /** Undefined when no replication rule has an ECR source (no push event can start one in AWS). */
  readonly pushEvents?: PushEventFilter;
  /** Registries used by replication whose credentials only work on a workstation (`env`, `dockerConfig`). */
  readonly localOnlyCredentials: readonly string[];
  /** Registries used as a replication source, sorted. */
  readonly sourceRegistries: readonly string[];
  /** Registries used as a replication target, sorted. */
  readonly targetRegistries: readonly string[];
  /** The `iamRole` of each ECR registry in `roles`, by registry name. */
  readonly registryRoles: Readonly<Record<string, string>>;
}

/** Which side of a copy a function touches: the source registries, the targets, or both. */
export interface AccessSides {
  readonly sources: boolean;
  readonly targets: boolean;
}

/**
 * The part of `access` that touches only the given sides: ECR scopes, secrets and roles of registries
 * on those sides. A large-image step that never contacts a target gets no target secret or role.
 *
 * @example
 * narrowReplicationAccess(access, { sources: true, targets: false }) // what the Plan step needs
 */
export function narrowReplicationAccess(access: ReplicationAccess, sides: AccessSides): ReplicationAccess {
  const names = new Set([...(sides.sources ? access.sourceRegistries : []), ...(sides.targets ? access.targetRegistries : [])]);
  const sources = sides.sources ? access.sources : [];
  const targets = sides.targets ? access.targets : [];
  const registryRoles = Object.fromEntries(Object.entries(access.registryRoles).filter(([name]) => names.has(name)));
  return {
    ...access,
    sources,
    targets,
    secrets: access.secrets.filter((s) => names.has(s.registry)),
    roles: [...new Set(Object.values(registryRoles))].sort(),
    registryRoles,
    usesOwnEcrIdentity: sources.length > 0 || targets.length > 0,
    localOnlyCredentials: access.localOnlyCredentials.filter((n) => names.has(n)),
    sourceRegistries: access.sourceRegistries.filter((n) => names.has(n)),
    targetRegistries: access.targetRegistries.filter((n) => names.has(n)),
  };
}

const ECR_NAME_CHAR = /[a-z0-9._/-]/;

/**
 * The names a config repository pattern (glob or `/regex/`) can match, as a literal prefix or exact name.
 *
 * @example
 * repositoryPatternScope('team-a/*')                    // { prefix: 'team-a/' }
 * repositoryPatternScope('base/alpine')                 // { exact: 'base/alpine' }
 * repositoryPatternScope('/^base\\/(alpine|debian)$/')  // { prefix: 'base/' }
 */
export function repositoryPatternScope(pattern: string): NameScope {
  return isRegexPattern(pattern) ? regexScope(pattern) : globScope(pattern);
}

function globScope(glob: string): NameScope {
  let prefix = '';
  for (const ch of glob) {
    if (!ECR_NAME_CHAR.test(ch)) return { prefix };
    prefix += ch;
  }
  return { exact: prefix };
}

/** A regex anchored with `^`: its literal head; unanchored or with a top-level `|`: everything. */
function regexScope(literal: string): NameScope {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(literal);
  const source = m?.[1] ?? '';
  const flags = m?.[2] ?? '';
  if (!source.startsWith('^') || hasTopLevelAlternation(source)) return { prefix: '' };
  let prefix = '';
  for (let i = 1; i < source.length; i++) {
    const ch = source[i] as string;
    const next = source[i + 1];
    let literalChar: string | undefined;
    if (ch === '\\' && next !== undefined && /[/.\-_]/.test(next)) {
      literalChar = next;
      i++;
    } else if (ch === '$' && i === source.length - 1) {
      return { exact: prefix };
    } else if (ECR_NAME_CHAR.test(flags.includes('i') ? ch.toLowerCase() : ch) && ch !== '.') {
      literalChar = flags.includes('i') ? ch.toLowerCase() : ch;
    }
    if (literalChar === undefined) return { prefix };
    // A quantifier that allows zero of this character makes it optional: it is not part of the prefix.
    const after = source[i + 1];
    if (after === '?' || after === '*' || after === '{') return { prefix };
    prefix += literalChar;
  }
  return { prefix };
}

function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}

/** The names a target gets for source names in `scope` (repositoryPrefix, rename, or the same name). */
export function targetNameScopes(scope: NameScope, target: ReplicationTarget): NameScope[] {
  if (target.repositoryPrefix !== undefined) {
    const head = `${target.repositoryPrefix.replace(/\/+$/, '')}/`;
    return ['exact' in scope ? { exact: head + scope.exact } : { prefix: head + scope.prefix }];
  }
  if (target.rename !== undefined) {
    // The replacement's literal head is fixed; what follows a `$n` comes from the source name. A name
    // the `match` regex does not match keeps its own name, so the source scope is included as well.
    const dollar = target.rename.replace.indexOf('$');
    const renamed: NameScope = dollar === -1 ? { exact: target.rename.replace } : { prefix: target.rename.replace.slice(0, dollar) };
    return [renamed, scope];
  }
  return [scope];
}

/** Drops duplicates and names covered by a broader prefix; `{ prefix: '' }` alone when everything is covered. */
export function normalizeScopes(scopes: readonly NameScope[]): NameScope[] {
  const prefixes = [...new Set(scopes.flatMap((s) => ('prefix' in s ? [s.prefix] : [])))].sort();
  const keptPrefixes = prefixes.filter((p) => !prefixes.some((q) => q !== p && p.startsWith(q)));
  const covered = (name: string) => keptPrefixes.some((p) => name.startsWith(p));
  const exacts = [...new Set(scopes.flatMap((s) => ('exact' in s ? [s.exact] : [])))].filter((n) => !covered(n)).sort();
  return [...keptPrefixes.map((prefix) => ({ prefix })), ...exacts.map((exact) => ({ exact }))];
}

/** Whether a secret ARN already carries Secrets Manager's random 6-character suffix (`…-AbCdEf`). */
export function hasSecretSuffix(secretArn: string): boolean {
  return /-[A-Za-z0-9]{6}$/.test(secretArn);
}

/**
 * Everything the replication functions need, from the replication rules of a validated config.
 *
 * @example
 * const access = replicationAccess(config);
 * access.sources[0] // { registry: 'ecr-main', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: 'team-a/' }] }
 */
export function replicationAccess(config: RegmanConfig): ReplicationAccess {
  const sourceNames = new Map<string, NameScope[]>();
  const targetNames = new Map<string, NameScope[]>();
  const used = new Set<string>();
  for (const rule of config.replication) {
    const scopes = rule.repositories.map(repositoryPatternScope);
    used.add(rule.source);
    push(sourceNames, rule.source, scopes);
    for (const target of rule.targets) {
      used.add(target.registry);
      push(targetNames, target.registry, scopes.flatMap((s) => targetNameScopes(s, target)));
    }
  }

  const registry = (name: string): RegistryConfig => {
    const found = config.registries[name];
    // validateConfig's cross-checks guarantee every reference resolves.
    if (!found) throw new Error(`internal: replication names registry "${name}" that the config does not define`);
    return found;
  };
  const ownEcrScopes = (byRegistry: Map<string, NameScope[]>): EcrRepositoryScope[] =>
    [...byRegistry.entries()].flatMap(([name, names]) => {
      const r = registry(name);
      if (r.kind !== 'ecr' || r.credentials?.iamRole !== undefined) return [];
      return [{ registry: name, accountId: r.accountId, region: r.region, names: normalizeScopes(names) }];
    });

  const secrets: SecretScope[] = [];
  const roles = new Set<string>();
  const registryRoles: Record<string, string> = {};
  const localOnly: string[] = [];
  let usesOwnEcrIdentity = false;
  for (const name of [...used].sort()) {
    const r = registry(name);
    const creds: CredentialReference | undefined = r.credentials;
    if (creds?.secretArn !== undefined) secrets.push({ registry: name, secretArn: creds.secretArn });
    if (creds?.secretName !== undefined) secrets.push({ registry: name, secretName: creds.secretName });
    if (creds?.iamRole !== undefined) {
      roles.add(creds.iamRole);
      registryRoles[name] = creds.iamRole;
    }
    if (creds?.env !== undefined || creds?.dockerConfig !== undefined) localOnly.push(name);
    if (r.kind === 'ecr' && creds?.iamRole === undefined) usesOwnEcrIdentity = true;
  }

  return {
    sources: ownEcrScopes(sourceNames),
    targets: ownEcrScopes(targetNames),
    secrets,
    roles: [...roles].sort(),
    usesOwnEcrIdentity,
    ...pushEventFilter(config, registry),
    localOnlyCredentials: localOnly,
    sourceRegistries: [...sourceNames.keys()].sort(),
    targetRegistries: [...targetNames.keys()].sort(),
    registryRoles,
  };
}

function pushEventFilter(config: RegmanConfig, registry: (name: string) => RegistryConfig): { pushEvents?: PushEventFilter } {
  const accounts = new Set<string>();
  const regions = new Set<string>();
  const names: NameScope[] = [];
  for (const rule of config.replication) {
    const source = registry(rule.source);
    if (source.kind !== 'ecr') continue;
    accounts.add(source.accountId);
    regions.add(source.region);
    names.push(...rule.repositories.map(repositoryPatternScope));
  }
  if (accounts.size === 0) return {};
  const normalized = normalizeScopes(names);
  const everything = normalized.some((s) => 'prefix' in s && s.prefix === '');
  return {
    pushEvents: {
      accounts: [...accounts].sort(),
      regions: [...regions].sort(),
      ...(everything ? {} : { repositoryNames: normalized }),
    },
  };
}

function push(map: Map<string, NameScope[]>, key: string, values: readonly NameScope[]): void {
  const list = map.get(key) ?? [];
  list.push(...values);
  map.set(key, list);
}
