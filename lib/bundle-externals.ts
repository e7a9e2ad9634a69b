// Which packages a Lambda bundle may leave out, from the config it is deployed with: google-auth-library
// without a GAR/GCR registry. (The ACR adapter needs no SDK: it speaks AAD's and ACR's REST APIs itself.)
import { GOOGLE_SDK_MODULES } from '../functions/registries/gar/token.ts';

/**
 * esbuild `external` modules for a function bundled with this config JSON (lib/config-bundle.ts).
 * The GAR adapter loads google-auth-library with `import()` on its first token request
 * (functions/registries/gar/token.ts), so a config that names no `kind: gar` or `kind: gcr` registry
 * never reaches it: leaving it out saves about 250 KB per bundle. A config with one bundles it.
 */
export function lambdaExternalModules(config: { readonly registries?: Readonly<Record<string, { readonly kind?: string }>> }): string[] {
  const kinds = new Set(Object.values(config.registries ?? {}).map((r) => r.kind));
  return kinds.has('gar') || kinds.has('gcr') ? [] : [...GOOGLE_SDK_MODULES];
}
