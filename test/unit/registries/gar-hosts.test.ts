// Host and namespace mapping of Artifact Registry and GCR.
import { describe, expect, it } from 'vitest';
import { garHost, garNamespace, gcrHostAndNamespace, projectPath, qualify, underNamespace } from '../../../functions/registries/gar/hosts.ts';
import { createGarAdapter, createGcrAdapter } from '../../../functions/registries/gar/adapter.ts';

describe('Google registry hosts and namespaces', () => {
  it('puts Artifact Registry at <location>-docker.pkg.dev unless the config names the host', () => {
    expect(garHost({ location: 'europe-west1' })).toBe('europe-west1-docker.pkg.dev');
    expect(garHost({ location: 'us', host: 'us-docker.pkg.dev' })).toBe('us-docker.pkg.dev');
  });

  it('uses the project as namespace, or project/repository when one is pinned', () => {
    expect(garNamespace({ project: 'my-project' })).toBe('my-project');
    expect(garNamespace({ project: 'my-project', repository: 'docker-repo' })).toBe('my-project/docker-repo');
  });

  it('writes a domain-scoped project as domain/project', () => {
    expect(projectPath('example.com:my-project')).toBe('example.com/my-project');
    expect(gcrHostAndNamespace({ project: 'example.com:my-project', host: 'eu.gcr.io' })).toEqual({ host: 'eu.gcr.io', namespace: 'example.com/my-project' });
  });

  it('qualifies names and keeps only catalog entries under the namespace, relative to it', () => {
    expect(qualify('p/r', 'app')).toBe('p/r/app');
    expect(qualify('', 'app')).toBe('app');
    expect(underNamespace('my-project', ['my-project/repo/app', 'other-project/repo/app', 'my-project-2/x'])).toEqual(['repo/app']);
  });

  it('builds adapters with the mapped host and namespace, and the test endpoint override as wire host', () => {
    // Prepare / Act
    const gar = createGarAdapter('g', { kind: 'gar', project: 'my-project', location: 'europe-west1', public: true });
    const gcr = createGcrAdapter('c', { kind: 'gcr', project: 'my-project', host: 'eu.gcr.io', public: true }, {
      ociEndpoint: () => ({ host: '127.0.0.1:5000', plainHttp: true }),
    });
    // Assess
    expect([gar.kind, gar.host, gar.namespace]).toEqual(['gar', 'europe-west1-docker.pkg.dev', 'my-project']);
    expect([gcr.kind, gcr.host, gcr.namespace]).toEqual(['gcr', '127.0.0.1:5000', 'my-project']);
    gar.close();
    gcr.close();
  });
});
