// The test gate's CodeBuild runner: StartBuild with the image in environment variables, then BatchGetBuilds until the build completes.
import { BatchGetBuildsCommand, StartBuildCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { TestGateDeps } from './types.ts';

export interface CodeBuildRunnerOptions {
  /** Between BatchGetBuilds reads. @default 10000 */
  readonly pollMs?: number;
  /** Stops polling after this long (the gate's own timeout decides the verdict first). @default 15 minutes */
  readonly maxWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * `runCodeBuild` of the test gate. The build passes when its status is SUCCEEDED; its console link
 * (the logs' deep link) is the result's url. Inside the state machine's 15-minute Lambda budget; a
 * longer suite belongs behind an HTTP hook or a Lambda that answers when it is done.
 * https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html
 *
 * @example
 * const runCodeBuild = codeBuildRunner(new CodeBuildClient({}));
 * await runTestGate(input, { codebuild: 'acme-integration-tests' }, { runCodeBuild });
 */
export function codeBuildRunner(client: Pick<CodeBuildClient, 'send'>, o: CodeBuildRunnerOptions = {}): NonNullable<TestGateDeps['runCodeBuild']> {
  const pollMs = o.pollMs ?? 10_000;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return async (project, env) => {
    const started = await client.send(
      new StartBuildCommand({
        projectName: project,
        environmentVariablesOverride: Object.entries(env).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
      }),
    );
    const id = started.build?.id;
    if (id === undefined) throw new Error(`CodeBuild StartBuild of ${project} returned no build id`);
    const deadline = Date.now() + (o.maxWaitMs ?? 15 * 60_000);
    for (;;) {
      const out = await client.send(new BatchGetBuildsCommand({ ids: [id] }));
      const build = out.builds?.[0];
      if (build?.buildComplete) {
        const url = build.logs?.deepLink;
        return { passed: build.buildStatus === 'SUCCEEDED', ...(url !== undefined ? { url } : {}) };
      }
      if (Date.now() >= deadline) throw new Error(`CodeBuild build ${id} of ${project} did not complete in time (status ${build?.buildStatus ?? 'unknown'})`);
      await sleep(pollMs);
    }
  };
}
