// Pure: what a test runner answered (HTTP hook body, Lambda payload, CodeBuild build) → the test gate's verdict.
/** What a runner must answer: `{ "passed": bool, "url"?: string }`. */
export interface TestVerdict {
  readonly passed: boolean;
  readonly url?: string;
}

/** Reads `{ passed, url? }`; returns a problem sentence for anything else (garbage, a missing or non-boolean `passed`). */
export function parseVerdict(body: unknown): TestVerdict | { problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problem: 'the answer is not a JSON object' };
  const { passed, url } = body as { passed?: unknown; url?: unknown };
  if (typeof passed !== 'boolean') return { problem: `"passed" is ${passed === undefined ? 'missing' : JSON.stringify(passed)}, not true or false` };
  if (url !== undefined && typeof url !== 'string') return { problem: '"url" is not a string' };
  return { passed, ...(typeof url === 'string' && url !== '' ? { url } : {}) };
}

/** The parts of a CodeBuild `Build` (the `startBuild.sync` state's output) the gate reads. */
export interface CodeBuildBuild {
  readonly id?: string;
  readonly arn?: string;
  readonly buildStatus?: string;
  readonly logs?: { readonly deepLink?: string };
  readonly phases?: readonly { readonly phaseType?: string; readonly phaseStatus?: string; readonly contexts?: readonly { readonly message?: string }[] }[];
}

/**
 * A finished build's verdict: `SUCCEEDED` passes; anything else fails with the failed phase's message.
 * The link is the build's console page (or its logs' deep link). Statuses:
 * https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Build.html
 */
export function verdictFromBuild(build: CodeBuildBuild, region?: string): TestVerdict & { status: string; problem?: string } {
  const status = build.buildStatus ?? 'UNKNOWN';
  const [project, run] = (build.id ?? '').split(':');
  const console = region !== undefined && project && run
    ? `https://${region}.console.aws.amazon.com/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(build.id!)}/`
    : build.logs?.deepLink;
  const failed = build.phases?.find((p) => p.phaseStatus !== undefined && p.phaseStatus !== 'SUCCEEDED');
  const message = failed?.contexts?.map((c) => c.message).filter(Boolean).join('; ');
  return {
    passed: status === 'SUCCEEDED',
    status,
    ...(console !== undefined ? { url: console } : {}),
    ...(status !== 'SUCCEEDED' ? { problem: `build ${build.id ?? '?'} ended ${status}${failed ? ` in phase ${failed.phaseType}` : ''}${message ? `: ${message}` : ''}` } : {}),
  };
}
