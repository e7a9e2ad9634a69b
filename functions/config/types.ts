// The types of a validated configuration, inferred from the schema (defaults applied).
import type { z } from 'zod';
import type { RetentionPolicy } from '../retention-policy/types.ts';
import type { ConfigIssue } from './errors.ts';
import type {
  acrRegistrySchema,
  approvalGateSchema,
  configSchema,
  dockerhubRegistrySchema,
  ecrRegistrySchema,
  environmentSchema,
  garRegistrySchema,
  gcrRegistrySchema,
  gitlabPolicySchema,
  ociRegistrySchema,
  promotionEdgeSchema,
  registrySchema,
  replicationRuleSchema,
  replicationTargetSchema,
  retentionPolicySchema,
  scanGateSchema,
  testsGateSchema,
} from './schema.ts';
import type { allowlistEntrySchema, signatureGateSchema, signatureKeySchema } from './schema-gates.ts';

/** The schema's output, before the retention rules are normalized. */
export type ParsedConfig = z.output<typeof configSchema>;

/** A whole, validated config/registries.yaml; each retention policy carries its normalized `policy`. */
export type RegmanConfig = Omit<ParsedConfig, 'retention'> & { retention: RetentionPolicyConfig[] };

export type RegistryConfig = z.output<typeof registrySchema>;
export type RegistryKind = RegistryConfig['kind'];
export type EcrRegistryConfig = z.output<typeof ecrRegistrySchema>;
export type GarRegistryConfig = z.output<typeof garRegistrySchema>;
export type GcrRegistryConfig = z.output<typeof gcrRegistrySchema>;
export type AcrRegistryConfig = z.output<typeof acrRegistrySchema>;
export type DockerhubRegistryConfig = z.output<typeof dockerhubRegistrySchema>;
export type OciRegistryConfig = z.output<typeof ociRegistrySchema>;
/** Where a registry's credentials come from (exactly one field is set). */
export type CredentialReference = NonNullable<RegistryConfig['credentials']>;

export type EnvironmentConfig = z.output<typeof environmentSchema>;

export type ReplicationRule = z.output<typeof replicationRuleSchema>;
export type ReplicationTarget = z.output<typeof replicationTargetSchema>;

export type PromotionEdge = z.output<typeof promotionEdgeSchema>;
export type PromotionGates = PromotionEdge['gates'];
export type ScanGate = z.output<typeof scanGateSchema>;
export type TestsGate = z.output<typeof testsGateSchema>;
export type SignatureGate = z.output<typeof signatureGateSchema>;
export type SignatureKeyConfig = z.output<typeof signatureKeySchema>;
export type AllowlistEntryConfig = z.output<typeof allowlistEntrySchema>;
export type ApprovalGate = z.output<typeof approvalGateSchema>;

/** A retention policy as written, plus `policy`: its rules normalized by functions/retention-policy's parsePolicy. */
export type RetentionPolicyConfig = z.output<typeof retentionPolicySchema> & { readonly policy: RetentionPolicy };
export type GitlabPolicyConfig = z.output<typeof gitlabPolicySchema>;

/** Options of validateConfig. */
export interface ValidateConfigOptions {
  /**
   * Values for `${VAR}` and `${VAR:-default}` references in string values. Without it, references
   * are left as written (validateConfig stays pure); loadConfig passes `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Reads a file named in the config (an ECR lifecycle policy `.json`), relative to the config
   * file. Without it, such paths are checked for shape only and left as strings.
   */
  readonly readFile?: (path: string) => string;
}

/** The result of validateConfig: `config` is set exactly when `errors` is empty. */
export interface ValidateConfigResult {
  readonly config?: RegmanConfig;
  readonly errors: readonly ConfigIssue[];
}
