// Mapping GitHub / GitLab events to promotion edges through their configured triggers.
import { describe, expect, it } from 'vitest';
import { mapCiEvent, parseCiEvent } from '../../../functions/webhooks/map-event.ts';

const edges = [
  { from: 'dev', to: 'staging', triggers: [{ provider: 'github' as const, event: 'tag' as const, tags: ['v*'], repository: 'team/app' }] },
  {
    from: 'staging', to: 'prod',
    triggers: [
      { provider: 'github' as const, event: 'release' as const, project: 'Acme/App', tags: ['/^v\\d+\\.\\d+\\.\\d+$/'], repository: 'team/app' },
      { provider: 'gitlab' as const, event: 'tag' as const, project: 'acme/app', tags: ['*'], repository: 'team/app' },
    ],
  },
  { from: 'dev', to: 'qa' },
];

const githubRelease = (action: string, tag: string) => ({ action, release: { tag_name: tag }, repository: { full_name: 'acme/app' }, sender: { login: 'octo' } });
const githubPush = (ref: string, deleted = false) => ({ ref, deleted, repository: { full_name: 'acme/app' }, sender: { login: 'octo' } });
const gitlabTag = (ref: string, after: string) => ({ object_kind: 'tag_push', ref, after, project: { path_with_namespace: 'acme/app' }, user_username: 'jdoe' });

describe('parseCiEvent + mapCiEvent', () => {
  it.each([
    ['GitHub release published', 'github', 'release', githubRelease('published', 'v1.2.3'), [['staging', 'prod', 'v1.2.3', 'github:octo']]],
    ['GitHub release published, tag not matching the regex', 'github', 'release', githubRelease('published', 'v1.2.3-rc1'), []],
    ['GitHub release edited', 'github', 'release', githubRelease('edited', 'v1.2.3'), []],
    ['GitHub tag push', 'github', 'push', githubPush('refs/tags/v2.0.0'), [['dev', 'staging', 'v2.0.0', 'github:octo']]],
    ['GitHub branch push', 'github', 'push', githubPush('refs/heads/main'), []],
    ['GitHub tag deleted', 'github', 'push', githubPush('refs/tags/v2.0.0', true), []],
    ['GitHub ping', 'github', 'ping', { zen: 'hi' }, []],
    ['GitLab tag push', 'gitlab', 'Tag Push Hook', gitlabTag('refs/tags/r7', 'a'.repeat(40)), [['staging', 'prod', 'r7', 'gitlab:jdoe']]],
    ['GitLab tag deleted', 'gitlab', 'Tag Push Hook', gitlabTag('refs/tags/r7', '0'.repeat(40)), []],
    ['GitLab push hook', 'gitlab', 'Push Hook', { object_kind: 'push', ref: 'refs/heads/main' }, []],
  ] as const)('%s', (_name, provider, eventName, body, expected) => {
    // Act
    const event = parseCiEvent(provider, eventName, body);
    const started = event ? mapCiEvent(event, edges) : [];
    // Assess
    expect(started.map((p) => [p.from, p.to, p.tag, p.requestedBy])).toEqual(expected);
    for (const p of started) expect(p.repository).toBe('team/app');
  });

  it('ignores a non-object body', () => expect(parseCiEvent('github', 'release', 'x')).toBeUndefined());
});
