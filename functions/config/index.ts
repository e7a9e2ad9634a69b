// The configuration module: load and validate config/registries.yaml, and the types of a valid config.
export { validateConfig, loadConfig } from './validate-config.ts';
export { ConfigError, formatConfigIssue, type ConfigIssue } from './errors.ts';
export { compilePattern, isRegexPattern, matchesAny, type NameMatcher } from './patterns.ts';
export { registryHost, repositoryNamespace } from './registry-host.ts';
export { REGISTRY_KINDS, configSchema } from './schema.ts';
export { storagePriceOf } from './schema-pricing.ts';
export type * from './types.ts';
