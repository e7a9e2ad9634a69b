// The gate interface the promotion workflow calls: scan, signature and test gates, their inputs, deps and results.
//
// The promotion state machine (statemachines/promotion.asl.json) calls one Lambda per gate. Each
// handler (functions/handlers/promotion-*-gate.ts) builds a `GateInput` from the state input, calls
// the gate function below with its `GateDeps`, and returns the `GateResult` as the state output. A
// gate never throws for "the image does not pass": it returns `passed: false` with a reason; it throws
// (a typed error with `retryable`) only when it could not decide (registry down, AWS throttling).
// The workflow quarantines the digest when a scan or signature gate returns `passed: false`.
import type { Registry } from '../oci/registry.ts';
import type { GateSummary } from '../approvals/requester.ts';

/** What every gate is asked about: one digest in one repository of the source environment's registry. */
export interface GateInput {
  /** Repository in the source registry, e.g. `team-a/app`. */
  readonly repository: string;
  /** The tag the promotion was asked for (already resolved: `digest` is what is judged). */
  readonly tag: string;
  /** `sha256:<hex>`: the digest Validate resolved once; gates judge exactly this. */
  readonly digest: string;
  readonly edge: { readonly from: string; readonly to: string };
  /** Name of the registry (config key) the image is read from: the source environment's first registry. */
  readonly registry: string;
  readonly correlationId: string;
}

/** Findings per severity, after the allowlist and `fixableOnly`. Severities are ECR's names, lower-cased. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'informational' | 'undefined';
export type SeverityCounts = Readonly<Partial<Record<Severity, number>>>;

/**
 * One gate's verdict. `GateSummary` (the approval seam's type) is the part shown to approvers;
 * `reason` is the actionable sentence naming the image when it did not pass.
 */
export interface GateResult extends GateSummary {
  /** When `passed` is false: what failed and what to do, naming the image (`team-a/app@sha256:…`). */
  readonly reason?: string;
  /** Link to the report, build or test run, when there is one. */
  readonly url?: string;
}

/** Details a scan gate puts in `GateResult.details` (also what the quarantine record keeps). */
export interface ScanGateDetails {
  /** `referrer` (SARIF / Trivy JSON attached as an OCI referrer) or `ecr` (DescribeImageScanFindings). */
  readonly source: 'referrer' | 'ecr';
  /** Counts that were compared with the thresholds. */
  readonly counts: SeverityCounts;
  readonly thresholds: SeverityCounts;
  /** CVE ids the allowlist removed. */
  readonly allowlisted: readonly string[];
  /** Allowlist entries that matched but had expired (they no longer apply). */
  readonly expiredAllowlist: readonly string[];
  /** Digest of the report referrer used, for `referrer`. */
  readonly reportDigest?: string;
}

/** What the scan gate reads through. `registry` is the source registry's OCI data plane. */
export interface ScanGateDeps {
  readonly registry: Registry;
  /** ECR DescribeImageScanFindings behind a small interface; required only for `source: ecr`. */
  readonly ecrFindings?: EcrFindingsReader;
  /** Clock for allowlist expiry and polling. */
  readonly now: () => Date;
  /** Waits between polls (tests pass a no-op). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One page of ECR DescribeImageScanFindings, narrowed to what the gate needs. */
export interface EcrFindingsReader {
  describe(input: { repository: string; digest: string }): Promise<{
    readonly status: string;
    readonly description?: string;
    readonly findings: readonly { readonly id: string; readonly severity: string; readonly fixAvailable?: boolean }[];
  }>;
}

/** The signature gate's key material, already resolved (Secrets Manager references read by the handler). */
export interface SignatureGateDeps {
  readonly registry: Registry;
  /** ECDSA P-256 public keys, PEM. */
  readonly publicKeys: readonly { readonly id: string; readonly pem: string }[];
}

/** The test gate's runners behind small interfaces (Lambda Invoke, CodeBuild, HTTP fetch). */
export interface TestGateDeps {
  readonly invokeLambda?: (functionName: string, payload: unknown) => Promise<unknown>;
  readonly runCodeBuild?: (project: string, env: Readonly<Record<string, string>>) => Promise<{ passed: boolean; url?: string }>;
  readonly fetch?: typeof globalThis.fetch;
  readonly now?: () => Date;
}

/**
 * The gate functions h9b implements in functions/gates/ (scan.ts, signature.ts, tests.ts), with
 * these exact signatures. `config` is the edge's `gates.scan` / `gates.signature` / `gates.tests`
 * from functions/config/types.ts.
 */
export type RunScanGate<C> = (input: GateInput, config: C, deps: ScanGateDeps) => Promise<GateResult>;
export type RunSignatureGate<C> = (input: GateInput, config: C, deps: SignatureGateDeps) => Promise<GateResult>;
export type RunTestGate<C> = (input: GateInput, config: C, deps: TestGateDeps) => Promise<GateResult>;
