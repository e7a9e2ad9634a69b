// The test gate: an HTTP hook served by a real local server (pass, fail, garbage, timeout, 5xx), a Lambda via aws-sdk-client-mock, CodeBuild via its runner.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaInvoker, runTestGate } from '../../functions/gates/tests.ts';
import type { GateInput } from '../../functions/gates/types.ts';

const input: GateInput = { repository: 'team/app', tag: 'v1.2.3', digest: `sha256:${'c'.repeat(64)}`, edge: { from: 'staging', to: 'prod' }, registry: 'staging', correlationId: 'c' };

describe('test gate', () => {
  let server: Server;
  let base: string;
  const received: unknown[] = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/pass': (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ passed: true, url: 'https://ci.example/run/7' })),
    '/fail': (_q, r) => r.writeHead(200).end(JSON.stringify({ passed: false })),
    '/garbage': (_q, r) => r.writeHead(200).end('<html>oops</html>'),
    '/wrong-shape': (_q, r) => r.writeHead(201).end(JSON.stringify({ ok: true })),
    '/error': (_q, r) => r.writeHead(503).end('maintenance'),
    '/slow': () => undefined, // never answers
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url, method: req.method, type: req.headers['content-type'], body: JSON.parse(body) as unknown });
        routes[req.url ?? '']!(req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('POSTs {digest, repository, tag, from, to} and records a pass with its link', async () => {
    // Act
    const result = await runTestGate(input, { http: `${base}/pass` }, {});
    // Assess
    expect(received.at(-1)).toEqual({
      path: '/pass', method: 'POST', type: 'application/json',
      body: { digest: input.digest, repository: 'team/app', tag: 'v1.2.3', from: 'staging', to: 'prod' },
    });
    expect(result).toMatchObject({ gate: 'tests', passed: true, url: 'https://ci.example/run/7', details: { url: 'https://ci.example/run/7' } });
    expect(result.summary).toBe(`HTTP hook ${base}/pass passed (https://ci.example/run/7)`);
  });

  it.each([
    ['/fail', /^tests of team\/app@sha256:c+ failed: HTTP hook .*\/fail failed$/],
    ['/garbage', /HTTP hook .*\/garbage answered HTTP 200 with a body that is not JSON: "<html>oops<\/html>"; expected \{"passed"/],
    ['/wrong-shape', /answered "passed" is missing, not true or false/],
    ['/error', /answered HTTP 503: maintenance/],
  ])('fails %s with a clear message naming the image', async (path, reason) => {
    // Act
    const result = await runTestGate(input, { http: `${base}${path}` }, {});
    // Assess
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(reason);
    expect(result.reason).toContain('team/app@sha256:');
  });

  it('fails a hook that does not answer within timeoutSeconds', async () => {
    // Act
    const started = Date.now();
    const result = await runTestGate(input, { http: `${base}/slow`, timeoutSeconds: 0.3 }, {});
    // Assess
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(/\/slow did not answer within 0.3s \(gates.tests.timeoutSeconds\)/);
  });

  it('invokes a Lambda with the request and reads its verdict; a FunctionError fails the gate', async () => {
    // Prepare
    const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });
    const mock = mockClient(client);
    mock.on(InvokeCommand, { FunctionName: 'smoke' }).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify({ passed: true, url: 'https://r/1' })) as never });
    mock.on(InvokeCommand, { FunctionName: 'broken' }).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"boom"}') as never });
    // Act
    const ok = await runTestGate(input, { lambda: 'smoke' }, { invokeLambda: lambdaInvoker(client) });
    const bad = await runTestGate(input, { lambda: 'broken' }, { invokeLambda: lambdaInvoker(client) });
    // Assess
    const sent = JSON.parse(Buffer.from(mock.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString()) as unknown;
    expect(sent).toEqual({ digest: input.digest, repository: 'team/app', tag: 'v1.2.3', from: 'staging', to: 'prod' });
    expect(ok).toMatchObject({ passed: true, url: 'https://r/1', summary: 'Lambda smoke passed (https://r/1)' });
    expect(bad.passed).toBe(false);
    expect(bad.reason).toBe(`test gate for team/app@${input.digest} failed: Lambda broken errored: Unhandled: {"errorMessage":"boom"}`);
    mock.restore();
  });

  it('runs a CodeBuild project with the image in its environment', async () => {
    // Prepare
    const runs: unknown[] = [];
    // Act
    const result = await runTestGate(input, { codebuild: 'smoke' }, {
      runCodeBuild: async (project, env) => (runs.push({ project, env }), { passed: false, url: 'https://cb/1' }),
    });
    // Assess
    expect(runs).toEqual([{ project: 'smoke', env: { REGMAN_DIGEST: input.digest, REGMAN_REPOSITORY: 'team/app', REGMAN_TAG: 'v1.2.3', REGMAN_FROM: 'staging', REGMAN_TO: 'prod' } }]);
    expect(result).toMatchObject({ passed: false, url: 'https://cb/1' });
  });
});
