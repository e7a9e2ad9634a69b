// Reads in-toto statements, pure: SLSA provenance v0.2 and v1 (builder, build type, trigger, materials, commit) as BuildKit and CI write them, and SPDX / CycloneDX SBOM statements.
// Specs: https://slsa.dev/spec/v0.2/provenance, https://slsa.dev/spec/v1.0/provenance,
// https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md, BuildKit's
// https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md

export interface Material {
  readonly uri: string;
  readonly digest?: Readonly<Record<string, string>>;
}

export interface Provenance {
  readonly predicateType: string;
  /** Digests of the statement's subjects (`sha256:…`). */
  readonly subjects: readonly string[];
  readonly builder?: string;
  readonly buildType?: string;
  /** What started the build: the config source (`uri` + entry point), a CI workflow, or an event. */
  readonly trigger?: string;
  readonly materials: readonly Material[];
  readonly commit?: { readonly source?: string; readonly revision?: string };
}

export interface SbomSummary {
  readonly predicateType: string;
  readonly subjects: readonly string[];
  readonly format: 'spdx' | 'cyclonedx' | 'other';
  /** Packages (SPDX `packages`, CycloneDX `components`) when the document lists them. */
  readonly packages?: number;
}

export type Statement = { readonly kind: 'provenance'; readonly provenance: Provenance } | { readonly kind: 'sbom'; readonly sbom: SbomSummary } | { readonly kind: 'other'; readonly predicateType: string; readonly subjects: readonly string[] };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const BUILDKIT_METADATA = 'https://mobyproject.org/buildkit@v1#metadata';

function materials(list: unknown): Material[] {
  return arr(list).flatMap((m) => {
    const uri = str(obj(m)?.uri);
    const digest = obj(obj(m)?.digest) as Record<string, string> | undefined;
    return uri ? [{ uri, ...(digest ? { digest } : {}) }] : [];
  });
}

/** The commit: BuildKit's `vcs` metadata, else a `git+` material with a sha1. */
function commitOf(vcs: Json | undefined, mats: readonly Material[]): Provenance['commit'] {
  const source = str(vcs?.source);
  const revision = str(vcs?.revision);
  if (source || revision) return { ...(source ? { source } : {}), ...(revision ? { revision } : {}) };
  const git = mats.find((m) => m.uri.startsWith('git+') || m.uri.includes('.git'));
  if (!git) return undefined;
  const sha = git.digest?.sha1 ?? git.digest?.gitCommit;
  return { source: git.uri.replace(/@[0-9a-f]{40}$/, ''), ...(sha ? { revision: sha } : {}) };
}

function triggerOf(source: Json | undefined, fallback?: string): string | undefined {
  const uri = str(source?.uri);
  const entry = str(source?.entryPoint) ?? str(source?.path);
  return uri ? `${uri}${entry ? ` (${entry})` : ''}` : fallback;
}

function subjectsOf(statement: Json): string[] {
  return arr(statement.subject).flatMap((s) => {
    const sha = str(obj(obj(s)?.digest)?.sha256);
    return sha ? [`sha256:${sha}`] : [];
  });
}

/**
 * Classifies one in-toto statement. Unknown predicate types are `other`; anything that is not a
 * statement (no `predicateType`) is undefined.
 *
 * @example
 * readStatement(JSON.parse(blob)) // { kind: 'provenance', provenance: { builder: 'https://github.com/…', commit: { revision: 'abc…' }, … } }
 */
export function readStatement(value: unknown): Statement | undefined {
  const s = obj(value);
  const predicateType = str(s?.predicateType);
  if (!s || !predicateType) return undefined;
  const subjects = subjectsOf(s);
  const p = obj(s.predicate) ?? {};
  if (predicateType.startsWith('https://slsa.dev/provenance/v0.')) {
    const invocation = obj(p.invocation);
    const env = obj(invocation?.environment);
    const mats = materials(p.materials);
    const commit = commitOf(obj(obj(obj(p.metadata)?.[BUILDKIT_METADATA])?.vcs), mats);
    const builder = str(obj(p.builder)?.id);
    const buildType = str(p.buildType);
    const trigger = triggerOf(obj(invocation?.configSource), str(env?.github_event_name));
    return { kind: 'provenance', provenance: { predicateType, subjects, ...(builder ? { builder } : {}), ...(buildType ? { buildType } : {}), ...(trigger ? { trigger } : {}), materials: mats, ...(commit ? { commit } : {}) } };
  }
  if (predicateType.startsWith('https://slsa.dev/provenance/v1')) {
    const def = obj(p.buildDefinition);
    const run = obj(p.runDetails);
    const ext = obj(def?.externalParameters);
    const mats = materials(def?.resolvedDependencies);
    const commit = commitOf(obj(obj(obj(run?.metadata)?.[BUILDKIT_METADATA])?.vcs), mats);
    const workflow = obj(ext?.workflow);
    const builder = str(obj(run?.builder)?.id);
    const buildType = str(def?.buildType);
    const trigger = workflow ? `${str(workflow.repository) ?? ''}/${str(workflow.path) ?? ''}@${str(workflow.ref) ?? ''}` : triggerOf(obj(ext?.configSource));
    return { kind: 'provenance', provenance: { predicateType, subjects, ...(builder ? { builder } : {}), ...(buildType ? { buildType } : {}), ...(trigger ? { trigger } : {}), materials: mats, ...(commit ? { commit } : {}) } };
  }
  if (predicateType.startsWith('https://spdx.dev/Document')) return { kind: 'sbom', sbom: { predicateType, subjects, format: 'spdx', ...(Array.isArray(p.packages) ? { packages: p.packages.length } : {}) } };
  if (predicateType.startsWith('https://cyclonedx.org/bom')) return { kind: 'sbom', sbom: { predicateType, subjects, format: 'cyclonedx', ...(Array.isArray(p.components) ? { packages: p.components.length } : {}) } };
  return { kind: 'other', predicateType, subjects };
}
