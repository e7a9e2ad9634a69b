// The credential files a CLI user already has, in the order podman, skopeo and docker read them.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ChainCredentialProvider, DockerConfigCredentialProvider, EnvCredentialProvider, type CredentialProvider } from './credentials.ts';

/** One file to read credentials from, and why it is on the list (for `--debug` and docs). */
export interface CredentialFile {
  readonly path: string;
  readonly source: 'REGISTRY_AUTH_FILE' | 'XDG_RUNTIME_DIR' | 'containers' | 'DOCKER_CONFIG' | 'docker';
}

/**
 * The files, first match wins, as containers/image (podman, skopeo) orders them, docker's last
 * (containers-auth.json(5)):
 * 1. `$REGISTRY_AUTH_FILE` when set, else `$XDG_RUNTIME_DIR/containers/auth.json` (podman login's default);
 * 2. `~/.config/containers/auth.json`;
 * 3. `$DOCKER_CONFIG/config.json` when set, else `~/.docker/config.json`.
 * Every file may hold `auths`, `credHelpers` and `credsStore` (see DockerConfigCredentialProvider).
 */
export function credentialFiles(env: NodeJS.ProcessEnv, home: string = env.HOME ?? homedir()): CredentialFile[] {
  const files: CredentialFile[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push({ path: env.REGISTRY_AUTH_FILE, source: 'REGISTRY_AUTH_FILE' });
  else if (env.XDG_RUNTIME_DIR) files.push({ path: join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'), source: 'XDG_RUNTIME_DIR' });
  files.push({ path: join(home, '.config', 'containers', 'auth.json'), source: 'containers' });
  if (env.DOCKER_CONFIG) files.push({ path: join(env.DOCKER_CONFIG, 'config.json'), source: 'DOCKER_CONFIG' });
  else files.push({ path: join(home, '.docker', 'config.json'), source: 'docker' });
  // The same file named twice (REGISTRY_AUTH_FILE pointing at the default) is read once.
  return files.filter((f, i) => files.findIndex((g) => g.path === f.path) === i);
}

/**
 * The CLI's credentials when no flag gives them: `REGMAN_USERNAME` / `REGMAN_PASSWORD`, then each
 * of {@link credentialFiles} in turn. A file that is missing is skipped; a helper that a file names
 * and that is missing or fails is an error naming the helper and the file.
 *
 * @example
 * const client = new RegistryClient({ host: 'ghcr.io', credentials: localCredentialProvider(process.env) });
 */
export function localCredentialProvider(env: NodeJS.ProcessEnv = process.env): CredentialProvider {
  return new ChainCredentialProvider(
    new EnvCredentialProvider(env),
    ...credentialFiles(env).map((f) => new DockerConfigCredentialProvider({ path: f.path, env })),
  );
}
