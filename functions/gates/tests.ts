// The test gate: a Lambda, a CodeBuild project or an HTTP hook judges the digest; its verdict and link are recorded.
import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { TestsGate } from '../config/types.ts';
import { testsTimeoutSeconds } from '../config/schema-gates.ts';
import { GateError } from './errors.ts';
import { parseVerdict, type TestVerdict } from './test-verdict.ts';
import type { GateInput, RunTestGate } from './types.ts';

export type TestsGateConfig = Pick<TestsGate, 'lambda' | 'codebuild' | 'http'> & Partial<Pick<TestsGate, 'timeoutSeconds' | 'timeoutMinutes'>>;

/** What every runner is sent: the image and the edge. */
export function testRequest(input: GateInput): { digest: string; repository: string; tag: string; from: string; to: string } {
  return { digest: input.digest, repository: input.repository, tag: input.tag, from: input.edge.from, to: input.edge.to };
}

/**
 * Runs the configured runner. An answer that is not `{ passed: bool, url? }`, a non-2xx, an error or a
 * timeout fails the gate with a message naming the runner and the image (the gate never throws for
 * those: a broken test hook must not promote, and must say why).
 */
export const runTestGate: RunTestGate<TestsGateConfig> = async (input, config, deps) => {
  const image = `${input.repository}@${input.digest}`;
  const timeoutMs = testsTimeoutSeconds(config) * 1000;
  const request = testRequest(input);
  let runner: string;
  let outcome: TestVerdict | { problem: string };
  if (config.http !== undefined) {
    runner = `HTTP hook ${config.http}`;
    outcome = await callHook(config.http, request, timeoutMs, deps.fetch ?? globalThis.fetch);
  } else if (config.lambda !== undefined) {
    runner = `Lambda ${config.lambda}`;
    if (deps.invokeLambda === undefined) throw new GateError('gates.tests.lambda is set but no Lambda invoker was given', { code: 'CONFIG_INVALID' });
    outcome = await withTimeout(deps.invokeLambda(config.lambda, request).then(parseVerdict), timeoutMs);
  } else if (config.codebuild !== undefined) {
    runner = `CodeBuild project ${config.codebuild}`;
    if (deps.runCodeBuild === undefined) throw new GateError('gates.tests.codebuild is set but no CodeBuild runner was given', { code: 'CONFIG_INVALID' });
    const env = { REGMAN_DIGEST: input.digest, REGMAN_REPOSITORY: input.repository, REGMAN_TAG: input.tag, REGMAN_FROM: input.edge.from, REGMAN_TO: input.edge.to };
    outcome = await withTimeout(deps.runCodeBuild(config.codebuild, env), timeoutMs);
  } else {
    throw new GateError('gates.tests names no runner (lambda, codebuild or http)', { code: 'CONFIG_INVALID' });
  }
  if ('problem' in outcome) {
    const reason = `test gate for ${image} failed: ${runner} ${outcome.problem}`;
    return { gate: 'tests', passed: false, summary: reason, reason, details: { runner } };
  }
  const link = outcome.url !== undefined ? ` (${outcome.url})` : '';
  const summary = `${runner} ${outcome.passed ? 'passed' : 'failed'}${link}`;
  return {
    gate: 'tests',
    passed: outcome.passed,
    summary,
    details: { runner, ...(outcome.url !== undefined ? { url: outcome.url } : {}) },
    ...(outcome.url !== undefined ? { url: outcome.url } : {}),
    ...(outcome.passed ? {} : { reason: `tests of ${image} failed: ${summary}` }),
  };
};

async function withTimeout<T extends object>(work: Promise<T>, ms: number): Promise<T | { problem: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ problem: string }>((resolve) => {
    timer = setTimeout(() => resolve({ problem: `did not answer within ${ms / 1000}s (gates.tests.timeoutSeconds)` }), ms);
  });
  try {
    return await Promise.race([work.catch((err: unknown) => ({ problem: `errored: ${(err as Error).message}` })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function callHook(url: string, body: object, timeoutMs: number, fetchImpl: typeof globalThis.fetch): Promise<TestVerdict | { problem: string }> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { problem: `did not answer within ${timeoutMs / 1000}s (gates.tests.timeoutSeconds)` };
    return { problem: `could not be reached: ${(err as Error).message}` };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    return { problem: `answered HTTP ${res.status} but the body could not be read (${(err as Error).message})` };
  }
  if (res.status < 200 || res.status > 299) return { problem: `answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `answered HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}; expected {"passed": true|false, "url"?: "…"}` };
  }
  const v = parseVerdict(json);
  return 'problem' in v ? { problem: `answered ${v.problem}; expected {"passed": true|false, "url"?: "…"}` } : v;
}

/**
 * Lambda Invoke (RequestResponse) as the gate's `invokeLambda`: the function's JSON answer, or an error
 * naming the function when it raised (`FunctionError`).
 */
export function lambdaInvoker(client: Pick<LambdaClient, 'send'>): (functionName: string, payload: unknown) => Promise<unknown> {
  return async (functionName, payload) => {
    const out = (await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }))) as InvokeCommandOutput;
    const text = out.Payload !== undefined ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError !== undefined) throw new Error(`${out.FunctionError}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
}
