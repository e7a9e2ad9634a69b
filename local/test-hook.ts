// The local stack's own test hook (POST /hooks/tests): a smoke test that the promoted digest is complete in its source environment.
import type { RegmanConfig } from '../functions/config/types.ts';
import type { Registry } from '../functions/oci/registry.ts';
import type { RegistryAdapter } from '../functions/registries/adapter.ts';
import { repositoryPath } from '../functions/registries/sync.ts';
import type { ControlRequest, ControlResponse } from './control-server.ts';

/** The path config/local.yaml's staging → prod `tests: { http: … }` names. */
export const LOCAL_TEST_HOOK_PATH = '/hooks/tests';

/** What the test gate posts (functions/gates/tests.ts testRequest). */
interface HookRequest {
  readonly digest: string;
  readonly repository: string;
  readonly tag: string;
  readonly from: string;
  readonly to: string;
}

/** The hook's answer: the test gate's `{ passed, url? }`, plus what was checked. */
export interface LocalTestHookAnswer {
  readonly passed: boolean;
  readonly checked: number;
  readonly missing: readonly string[];
  readonly registry?: string;
  readonly problem?: string;
}

/**
 * Walks the digest in the `from` environment's first registry: every child manifest of an index, and
 * every config and layer blob, must be there (HEAD). It stands in for a CI smoke test: the gate's
 * plumbing (POST, verdict, timeout, record) is the real one.
 */
export async function checkImageComplete(registry: Registry, repository: string, digest: string): Promise<{ checked: number; missing: string[] }> {
  const missing: string[] = [];
  let checked = 0;
  const walk = async (ref: string): Promise<void> => {
    checked += 1;
    if ((await registry.manifestHead(repository, ref)) === undefined) {
      missing.push(`manifest ${ref}`);
      return;
    }
    const m = await registry.manifestGet(repository, ref);
    for (const child of m.manifests) await walk(child.digest);
    for (const blob of [...(m.config ? [m.config] : []), ...m.layers]) {
      checked += 1;
      if ((await registry.blobHead(repository, blob.digest)) === undefined) missing.push(`blob ${blob.digest}`);
    }
  };
  await walk(digest);
  return { checked, missing };
}

function parseRequest(body: Buffer): HookRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  const r = json as Partial<Record<keyof HookRequest, unknown>>;
  for (const key of ['digest', 'repository', 'tag', 'from', 'to'] as const) {
    if (typeof r[key] !== 'string' || r[key] === '') return `"${key}" is missing`;
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(r.digest as string)) return `"digest" ${JSON.stringify(r.digest)} is not sha256:<64 hex>`;
  return r as HookRequest;
}

/**
 * The control route. It answers only `POST /hooks/tests` (read-only, so it needs no control token:
 * the test gate posts without one, as to any CI hook).
 */
export function localTestHookRoute(o: { readonly config: Pick<RegmanConfig, 'environments'>; readonly adapters: ReadonlyMap<string, RegistryAdapter> }): (req: ControlRequest) => Promise<ControlResponse | undefined> {
  return async (req) => {
    if (req.path !== LOCAL_TEST_HOOK_PATH) return undefined;
    if (req.method !== 'POST') return { status: 405, body: { error: `POST ${LOCAL_TEST_HOOK_PATH} with {"digest","repository","tag","from","to"}` } };
    const parsed = parseRequest(await req.body());
    if (typeof parsed === 'string') return { status: 400, body: { error: `${LOCAL_TEST_HOOK_PATH}: ${parsed}; expected {"digest","repository","tag","from","to"}` } };
    const name = o.config.environments[parsed.from]?.registries[0];
    const adapter = name !== undefined ? o.adapters.get(name) : undefined;
    if (name === undefined || adapter === undefined) {
      const answer: LocalTestHookAnswer = { passed: false, checked: 0, missing: [], problem: `environment "${parsed.from}" has no registry in this stack` };
      return { status: 200, body: answer };
    }
    const { checked, missing } = await checkImageComplete(adapter.oci, repositoryPath(adapter, parsed.repository), parsed.digest);
    const answer: LocalTestHookAnswer = { passed: missing.length === 0, checked, missing, registry: name };
    return { status: 200, body: answer };
  };
}
