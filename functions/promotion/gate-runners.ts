// Binds the gates of functions/gates/ to their deps (the source registry's data plane, keys, clock) for the promotion's gate step.
import type { SecretResolver } from '../registries/secrets.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { runScanGate } from '../gates/scan.ts';
import { runSignatureGate } from '../gates/signature.ts';
import { resolveSignatureKeys } from '../gates/signature-keys.ts';
import { runTestGate } from '../gates/tests.ts';
import type { EcrFindingsReader, TestGateDeps } from '../gates/types.ts';
import { PromotionError } from './errors.ts';
import type { GateName, GateRunner } from './deps.ts';

export interface GateRunnerOptions {
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  /** Resolves Secrets Manager key references (signature keys). */
  readonly secrets?: SecretResolver;
  /** ECR DescribeImageScanFindings, for `source: ecr`. */
  readonly ecrFindings?: EcrFindingsReader;
  /** The test gate's runners (Lambda invoke, CodeBuild); HTTP hooks use `fetch` (default: the global one). */
  readonly tests?: TestGateDeps;
  readonly now?: () => Date;
}

/**
 * The scan and signature gates, reading the image from the source registry, and the test gate, which
 * calls the configured runner with the digest.
 */
export function createGateRunners(o: GateRunnerOptions): Partial<Record<GateName, GateRunner>> {
  const registryOf = (name: string) => {
    const adapter = o.adapters.get(name);
    if (!adapter) throw new PromotionError('BAD_INPUT', `registry "${name}" has no adapter`);
    return adapter.oci;
  };
  const now = o.now ?? (() => new Date());
  return {
    scan: async (input, edge) => {
      if (!edge.gates.scan) throw new PromotionError('BAD_INPUT', `${input.edge.from} → ${input.edge.to} has no scan gate`);
      return runScanGate(input, edge.gates.scan, { registry: registryOf(input.registry), now, ...(o.ecrFindings ? { ecrFindings: o.ecrFindings } : {}) });
    },
    signature: async (input, edge) => {
      const config = edge.gates.signature;
      if (!config) throw new PromotionError('BAD_INPUT', `${input.edge.from} → ${input.edge.to} has no signature gate`);
      const publicKeys = await resolveSignatureKeys(config.keys, o.secrets);
      return runSignatureGate(input, config, { registry: registryOf(input.registry), publicKeys });
    },
    tests: async (input, edge) => {
      const config = edge.gates.tests;
      if (!config) throw new PromotionError('BAD_INPUT', `${input.edge.from} → ${input.edge.to} has no tests gate`);
      return runTestGate(input, config, o.tests ?? {});
    },
  };
}
