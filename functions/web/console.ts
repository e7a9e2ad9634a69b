// The web console: one entry for every page (API Gateway in AWS, the local stack's listener locally), routed by routes.ts.
import type { ConsoleContext } from './console-context.ts';
import { htmlResponse, type WebRequest, type WebResponse } from './http.ts';
import { html } from '../html.ts';
import { page } from './layout.ts';
import { consoleRoutes, matchRoute, type Route } from './routes.ts';

/** Serves one request. Unknown routes get a 404 page; an unexpected error a 500 page that names no internals. */
export async function serveConsole(req: WebRequest, ctx: ConsoleContext, routes: readonly Route[] = consoleRoutes): Promise<WebResponse> {
  const match = matchRoute(routes, req.method, req.path);
  if (!match) return htmlResponse(404, page({ title: 'Not found' }, html`<h1>Not found</h1><section><p>No page at this address.</p></section>`));
  try {
    const nav = routes.filter((r) => r.nav).map((r) => ({ href: r.path, label: r.nav! }));
    const res = await match.route.handler(req, match.params, { ...ctx, nav });
    return req.method === 'HEAD' ? { ...res, body: '' } : res;
  } catch (err) {
    ctx.log?.(`console: ${req.method} ${match.route.path} failed: ${err instanceof Error ? err.message : String(err)}`);
    return htmlResponse(500, page({ title: 'Error' }, html`<h1>Something went wrong</h1><section><p>The request failed. Try again; operators can see the logs.</p></section>`));
  }
}
