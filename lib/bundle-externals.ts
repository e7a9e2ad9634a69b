// Which packages a Lambda bundle may leave out, from the config it is deployed with: the Azure SDKs without an ACR
// registry, google-auth-library without a GAR/GCR registry.
import { AZURE_SDK_MODULES } from '../functions/registries/acr/azure-sdk.ts';
import { GOOGLE_SDK_MODULES } from '../functions/registries/gar/token.ts';

/**
 * esbuild `external` modules for a function bundled with this config JSON (lib/config-bundle.ts).
 * The ACR adapter loads @azure/* with `import()` on its first ACR call (functions/registries/acr/
 * azure-sdk.ts), so a config that names no `kind: acr` registry never reaches them: leaving them out
 * saves about 350 KB per bundle (MSAL alone is 200 KB). A config with an ACR registry bundles them.
 */
export function lambdaExternalModules(config: { readonly registries?: Readonly<Record<string, { readonly kind?: string }>> }): string[] {
  const kinds = new Set(Object.values(config.registries ?? {}).map((r) => r.kind));
  // Likewise google-auth-library (functions/registries/gar/token.ts) without a GAR or GCR registry: about 250 KB.
  const google = kinds.has('gar') || kinds.has('gcr') ? [] : [...GOOGLE_SDK_MODULES];
  return [...(kinds.has('acr') ? [] : [...AZURE_SDK_MODULES]), ...google];
}
