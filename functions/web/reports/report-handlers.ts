// The console's report pages: thin handlers from a GET's query to a ConsoleReports call and the report's own render function.
import { parseTimeBound } from '../../audit/time-bounds.ts';
import { isOciError } from '../../oci/errors.ts';
import { ReportError } from '../../reports/errors.ts';
import type { ConsoleContext } from '../console-context.ts';
import { htmlResponse, type WebRequest, type WebResponse } from '../http.ts';
import { renderCompliancePage } from './compliance-page.ts';
import type { ConsoleReports } from './console-reports.ts';
import { renderCostsPage } from './costs-page.ts';
import { esc, page, type PageLink } from './html.ts';
import { lineageForm, renderLineagePage } from './lineage-page.ts';
import { renderUsagePage } from './usage-page.ts';

type Handler = (req: WebRequest, params: Readonly<Record<string, string>>, ctx: ConsoleContext) => Promise<WebResponse>;

/** The console's header links (set by serveConsole), as the report page's nav line. */
const nav = (ctx: ConsoleContext): readonly PageLink[] => [{ href: '/', label: 'Console' }, ...(ctx.nav ?? [])];

/** A report that cannot be made from what was asked (an empty period, an unknown registry, a bad bound) is a 4xx page saying why. */
function problem(status: number, title: string, message: string, ctx: ConsoleContext): WebResponse {
  return htmlResponse(status, page(title, 'the report could not be made', `<section><p class="bad" id="error">${esc(message)}</p><p class="meta">Change the address's query (since, until, registry) and reload.</p></section>`, nav(ctx)));
}

function period(req: WebRequest, now: Date): { since: string; until: string } {
  return { since: parseTimeBound(req.query.get('since') || '30d', now, 'since'), until: parseTimeBound(req.query.get('until') || now.toISOString(), now, 'until') };
}

/** 404 for nothing to show, 503 for a report too large for one request (the message names the CLI command), 400 for bad input. */
const reportStatus = (err: ReportError): number => (err.code === 'REPORT_NOT_FOUND' || err.code === 'REPORT_EMPTY_PERIOD' ? 404 : err.code === 'REPORT_TOO_LARGE' ? 503 : 400);

/** Runs one report; missing reports, bad input and report errors become pages, anything else the console's 500. */
function reportPage(title: string, run: (reports: ConsoleReports, req: WebRequest, now: Date, links: readonly PageLink[]) => Promise<string>): Handler {
  return async (req, _params, ctx) => {
    if (!ctx.reports) return problem(404, title, 'Reports are not configured for this console.', ctx);
    const now = ctx.now?.() ?? new Date();
    try {
      return htmlResponse(200, await run(ctx.reports, req, now, nav(ctx)));
    } catch (err) {
      if (err instanceof ReportError) return problem(reportStatus(err), title, err.message, ctx);
      if ((err as { code?: unknown }).code === 'AUDIT_QUERY_INVALID') return problem(400, title, (err as Error).message, ctx);
      throw err;
    }
  };
}

const list = (req: WebRequest, name: string): string[] => req.query.getAll(name).filter((v) => v !== '');

export const compliancePage: Handler = reportPage('Compliance report', async (reports, req, now, links) => {
  const protectedEnvironments = list(req, 'protected');
  return renderCompliancePage(await reports.compliance({ ...period(req, now), protectedEnvironments: protectedEnvironments.length > 0 ? protectedEnvironments : ['prod'] }), { nav: links });
});

export const costsPage: Handler = reportPage('Cost report', async (reports, req, _now, links) => renderCostsPage(await reports.costs({ registries: list(req, 'registry') }), { nav: links }));

export const usagePage: Handler = reportPage('Usage report', async (reports, req, now, links) => renderUsagePage(await reports.usage({ ...period(req, now), registries: list(req, 'registry') }), { nav: links }));

export const lineagePage: Handler = async (req, _params, ctx) => {
  if (!ctx.reports) return problem(404, 'Image lineage', 'Reports are not configured for this console.', ctx);
  const image = (req.query.get('image') ?? '').trim();
  if (image === '') return htmlResponse(200, renderLineagePage(undefined, { form: lineageForm(''), nav: nav(ctx) }));
  try {
    return htmlResponse(200, renderLineagePage(await ctx.reports.lineage(image), { form: lineageForm(image), nav: nav(ctx) }));
  } catch (err) {
    // The form stays, with the reason: a typo in the reference, an image that is not there, a host that is not ours.
    if (isOciError(err) || err instanceof ReportError) return htmlResponse(err instanceof ReportError ? reportStatus(err) : isOciError(err, 'INVALID_REFERENCE') ? 400 : 404, renderLineagePage(undefined, { form: lineageForm(image), error: err.message, nav: nav(ctx) }));
    throw err;
  }
};
