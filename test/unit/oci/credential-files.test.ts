// The order of credential files (podman / skopeo / docker) as a table.
import { describe, expect, it } from 'vitest';
import { credentialFiles } from '../../../functions/oci/credential-files.ts';

describe('credentialFiles', () => {
  it.each([
    ['nothing set: containers then docker', {}, ['/h/.config/containers/auth.json', '/h/.docker/config.json']],
    ['XDG_RUNTIME_DIR first', { XDG_RUNTIME_DIR: '/run/user/1' }, ['/run/user/1/containers/auth.json', '/h/.config/containers/auth.json', '/h/.docker/config.json']],
    [
      'REGISTRY_AUTH_FILE replaces the XDG file',
      { REGISTRY_AUTH_FILE: '/x/auth.json', XDG_RUNTIME_DIR: '/run/user/1' },
      ['/x/auth.json', '/h/.config/containers/auth.json', '/h/.docker/config.json'],
    ],
    ['DOCKER_CONFIG replaces ~/.docker', { DOCKER_CONFIG: '/d' }, ['/h/.config/containers/auth.json', '/d/config.json']],
    ['a file named twice is read once', { REGISTRY_AUTH_FILE: '/h/.docker/config.json' }, ['/h/.docker/config.json', '/h/.config/containers/auth.json']],
  ])('%s', (_name, env, expected) => {
    expect(credentialFiles({ HOME: '/h', ...env }).map((f) => f.path)).toEqual(expected);
  });
});
