// The gate steps: run the configured scan, signature or test gate on the validated digest, record and audit its result.
import type { GateResult } from '../gates/types.ts';
import { PromotionError } from './errors.ts';
import { auditStep, imageName, updateRecord, validated, type GateName, type PromotionDeps, type PromotionState } from './deps.ts';
import { findEdge } from './policy.ts';

/**
 * Runs one gate through `deps.gates[gate]`. "Did not pass" is a result (`passed: false`), which the
 * state machine routes to Quarantine (scan, signature) or the failure record (tests).
 */
export async function runGateStep(gate: GateName, state: PromotionState, deps: PromotionDeps): Promise<GateResult> {
  const { input } = state;
  const run = validated(state);
  const edge = findEdge(deps.config, input.from, input.to);
  const runner = deps.gates?.[gate];
  const result: GateResult = runner
    ? await runner({ repository: input.repository, tag: input.tag, digest: run.digest, edge: { from: input.from, to: input.to }, registry: run.sourceRegistry, correlationId: input.correlationId }, edge)
    : {
        gate,
        passed: false,
        summary: `the ${gate} gate is not available in this build`,
        reason: `${imageName(input, run.digest)}: ${input.from} → ${input.to} configures a ${gate} gate, which this build cannot run; remove it from the edge or upgrade`,
      };
  if (result.gate !== gate) throw new PromotionError('GATE_FAILED', `the ${gate} gate answered as "${result.gate}"`);
  await updateRecord(deps, input, (r) => ({ gates: [...r.gates.filter((g) => g.gate !== gate), result] }), {
    step: gate,
    outcome: result.passed ? 'success' : 'failure',
    message: result.passed ? result.summary : (result.reason ?? result.summary),
  });
  await auditStep(deps, input, gate, result.passed ? 'success' : 'failure', {
    digest: run.digest,
    registry: run.sourceRegistry,
    ...(result.passed ? {} : { errorCode: 'GATE_FAILED', errorMessage: result.reason ?? result.summary }),
    details: { summary: result.summary, ...(result.url ? { url: result.url } : {}) },
  });
  return result;
}

/** Quarantines the digest for every failed scan or signature gate in the state. */
export async function quarantineStep(state: PromotionState, deps: PromotionDeps): Promise<{ quarantined: string; gates: string[] }> {
  const { input } = state;
  const run = validated(state);
  const failed = (['scan', 'signature'] as const).map((g) => state.gates?.[g]).filter((g): g is GateResult => g !== undefined && !g.passed);
  const time = (deps.now?.() ?? new Date()).toISOString();
  for (const g of failed) {
    await deps.store.putQuarantine({
      digest: run.digest,
      repository: input.repository,
      reason: g.reason ?? g.summary,
      gate: g.gate,
      summary: g.summary,
      executionId: input.executionId,
      time,
    });
  }
  await updateRecord(deps, input, (r) => ({ error: { code: 'GATE_FAILED', message: failed.map((g) => g.reason ?? g.summary).join('; ') || r.error?.message || 'a gate failed' } }), {
    step: 'quarantine',
    outcome: 'success',
    message: `${run.digest} quarantined (${failed.map((g) => g.gate).join(', ')} gate)`,
  });
  await auditStep(deps, input, 'quarantine', 'success', { digest: run.digest, details: { gates: failed.map((g) => g.gate), summary: failed.map((g) => g.summary).join('; ') } });
  return { quarantined: run.digest, gates: failed.map((g) => g.gate) };
}
