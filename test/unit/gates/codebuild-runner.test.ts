// The test gate's CodeBuild runner: StartBuild with the image in environment variables, BatchGetBuilds until complete (aws-sdk-client-mock).
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { codeBuildRunner } from '../../../functions/gates/codebuild-runner.ts';

const codebuild = mockClient(CodeBuildClient);
const noSleep = async () => {};

describe('codeBuildRunner', () => {
  afterEach(() => codebuild.reset());

  it.each([
    ['SUCCEEDED', true],
    ['FAILED', false],
    ['TIMED_OUT', false],
  ])('starts the project with the image and polls until complete: %s → passed %s, with the logs link', async (status, passed) => {
    // Prepare
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'tests:1' } });
    codebuild
      .on(BatchGetBuildsCommand)
      .resolvesOnce({ builds: [{ id: 'tests:1', buildComplete: false, buildStatus: 'IN_PROGRESS' }] })
      .resolves({ builds: [{ id: 'tests:1', buildComplete: true, buildStatus: status as 'SUCCEEDED', logs: { deepLink: 'https://console.aws/logs/1' } }] });
    const run = codeBuildRunner(codebuild as unknown as CodeBuildClient, { pollMs: 0, sleep: noSleep });

    // Act
    const verdict = await run('tests', { REGMAN_DIGEST: 'sha256:abc', REGMAN_TO: 'prod' });

    // Assess
    expect(verdict).toEqual({ passed, url: 'https://console.aws/logs/1' });
    expect(codebuild.commandCalls(StartBuildCommand)[0]!.args[0].input).toEqual({
      projectName: 'tests',
      environmentVariablesOverride: [
        { name: 'REGMAN_DIGEST', value: 'sha256:abc', type: 'PLAINTEXT' },
        { name: 'REGMAN_TO', value: 'prod', type: 'PLAINTEXT' },
      ],
    });
    expect(codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(2);
  });

  it('fails with the build id when StartBuild returns none, or the build outlives the wait', async () => {
    codebuild.on(StartBuildCommand).resolvesOnce({}).resolves({ build: { id: 'tests:2' } });
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'tests:2', buildComplete: false, buildStatus: 'IN_PROGRESS' }] });
    const run = codeBuildRunner(codebuild as unknown as CodeBuildClient, { pollMs: 0, maxWaitMs: 0, sleep: noSleep });
    await expect(run('tests', {})).rejects.toThrow('CodeBuild StartBuild of tests returned no build id');
    await expect(run('tests', {})).rejects.toThrow('CodeBuild build tests:2 of tests did not complete in time (status IN_PROGRESS)');
  });
});
