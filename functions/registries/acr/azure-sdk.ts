// @azure/container-registry, loaded on first use: a Lambda whose config names no ACR registry is bundled without it (lib/constructs/base-function.ts).
import type * as ContainerRegistry from '@azure/container-registry';

/** The Azure packages only this folder loads; the CDK stack marks them external when no ACR registry is configured. */
export const AZURE_SDK_MODULES = ['@azure/identity', '@azure/container-registry'] as const;

/** @azure/container-registry, for ACR's listing and deletion API. */
export function loadContainerRegistry(): Promise<typeof ContainerRegistry> {
  return import('@azure/container-registry');
}
