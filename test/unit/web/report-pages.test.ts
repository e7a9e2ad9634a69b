// The console's report routes: each page from its ConsoleReports call, the period from the query, and bad input as a page that says why (not a 500).
import { describe, expect, it } from 'vitest';
import type { ApprovalService } from '../../../functions/approvals/service.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { ReportError } from '../../../functions/reports/errors.ts';
import { UsageAccumulator } from '../../../functions/reports/usage/model.ts';
import { serveConsole } from '../../../functions/web/console.ts';
import type { ConsoleContext } from '../../../functions/web/console-context.ts';
import type { ConsoleReports } from '../../../functions/web/reports/console-reports.ts';

const NOW = new Date('2026-03-10T00:00:00.000Z');

/** Records what each page asked for; answers from the real models, or throws what it was told to. */
class FakeReports implements ConsoleReports {
  readonly calls: unknown[] = [];
  constructor(private readonly fail?: Error) {}
  async compliance(p: Parameters<ConsoleReports['compliance']>[0]): ReturnType<ConsoleReports['compliance']> {
    this.calls.push(p);
    throw this.fail ?? new ReportError('No audit record in the period', { code: 'REPORT_EMPTY_PERIOD' });
  }
  async costs(p: Parameters<ConsoleReports['costs']>[0]): ReturnType<ConsoleReports['costs']> {
    this.calls.push(p);
    throw this.fail ?? new ReportError('--registry nope names no configured registry (configured: src)', { code: 'REPORT_UNKNOWN_REGISTRY' });
  }
  async usage(p: Parameters<ConsoleReports['usage']>[0]): ReturnType<ConsoleReports['usage']> {
    this.calls.push(p);
    if (this.fail) throw this.fail;
    return new UsageAccumulator(p).finish([{ name: 'src', kind: 'oci', repositories: [{ repository: 'team/<app>', images: [] }] }], []);
  }
  async lineage(image: string): ReturnType<ConsoleReports['lineage']> {
    this.calls.push(image);
    throw this.fail ?? new OciError(`manifest ${image} not found`, { code: 'MANIFEST_UNKNOWN' });
  }
}

const ctx = (reports?: ConsoleReports): ConsoleContext => ({ approvals: {} as ApprovalService, now: () => NOW, ...(reports ? { reports } : {}) });
const get = (path: string, query = '') => ({ method: 'GET', path, query: new URLSearchParams(query), headers: {}, body: '' });

describe('console report pages', () => {
  it('renders the usage page for the period in the query, escaping what the data holds', async () => {
    // Prepare
    const reports = new FakeReports();
    // Act
    const res = await serveConsole(get('/reports/usage', 'since=2026-03-08&registry=src'), ctx(reports));
    // Assess
    expect(res.status).toBe(200);
    expect(reports.calls).toEqual([{ since: '2026-03-08T00:00:00.000Z', until: NOW.toISOString(), registries: ['src'] }]);
    expect(res.body).toContain('team/&lt;app&gt;');
    expect(res.body).not.toContain('team/<app>');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    // Served by the console: a way back and to the other reports.
    expect(res.body).toContain('<a href="/">Console</a> · ');
    expect(res.body).toContain('<a href="/reports/costs">Costs</a>');
  });

  it.each([
    ['an empty compliance period', '/reports/compliance', 'since=2001-01-01', 404, 'No audit record in the period'],
    ['an unknown registry', '/reports/costs', 'registry=nope', 400, 'names no configured registry'],
    ['a bound that is not a time', '/reports/usage', 'since=yesterday', 400, 'yesterday&quot; is not a date-time'],
    ['an image that is not there', '/reports/lineage', 'image=127.0.0.1:5000/x:1', 404, 'manifest 127.0.0.1:5000/x:1 not found'],
  ])('%s is a 4xx page that says why', async (_name, path, query, status, message) => {
    const res = await serveConsole(get(path, query), ctx(new FakeReports()));
    expect(res.status).toBe(status);
    expect(res.body).toContain(message);
  });

  it('shows the lineage form without an image, and 404s every report page when reports are not configured', async () => {
    const form = await serveConsole(get('/reports/lineage'), ctx(new FakeReports()));
    expect(form.status).toBe(200);
    expect(form.body).toContain('<form method="get" action="/reports/lineage">');
    for (const path of ['/reports/compliance', '/reports/costs', '/reports/usage', '/reports/lineage']) {
      const res = await serveConsole(get(path), ctx());
      expect(res.status).toBe(404);
      expect(res.body).toContain('Reports are not configured');
    }
  });

  it('leaves an unexpected failure to the console (a 500 that names no internals)', async () => {
    const res = await serveConsole(get('/reports/usage'), ctx(new FakeReports(new Error('socket hang up at 10.0.0.7'))));
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('10.0.0.7');
  });
});
