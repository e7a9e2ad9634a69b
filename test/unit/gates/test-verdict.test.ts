// The test gate's pure verdicts: hook / Lambda answers and CodeBuild builds (the startBuild.sync output).
import { describe, expect, it } from 'vitest';
import { parseVerdict, verdictFromBuild } from '../../../functions/gates/test-verdict.ts';

describe('parseVerdict', () => {
  it.each([
    [{ passed: true }, { passed: true }],
    [{ passed: false, url: 'https://ci.example/run/1' }, { passed: false, url: 'https://ci.example/run/1' }],
    [{ passed: 'yes' }, { problem: '"passed" is "yes", not true or false' }],
    [{}, { problem: '"passed" is missing, not true or false' }],
    [[true], { problem: 'the answer is not a JSON object' }],
    ['ok', { problem: 'the answer is not a JSON object' }],
    [{ passed: true, url: 3 }, { problem: '"url" is not a string' }],
  ])('%j → %j', (body, verdict) => expect(parseVerdict(body)).toEqual(verdict));
});

describe('verdictFromBuild', () => {
  it('passes a SUCCEEDED build and links its console page', () => {
    expect(verdictFromBuild({ id: 'smoke:1234-abcd', buildStatus: 'SUCCEEDED' }, 'eu-west-1')).toEqual({
      passed: true, status: 'SUCCEEDED', url: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/smoke/build/smoke%3A1234-abcd/',
    });
  });

  it('fails any other status, naming the failed phase and its message', () => {
    // Act
    const v = verdictFromBuild({
      id: 'smoke:9', buildStatus: 'FAILED', logs: { deepLink: 'https://logs.example/9' },
      phases: [{ phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' }, { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ message: 'COMMAND_EXECUTION_ERROR: exit status 1' }] }],
    });
    // Assess
    expect(v).toEqual({ passed: false, status: 'FAILED', url: 'https://logs.example/9', problem: 'build smoke:9 ended FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: exit status 1' });
  });
});
