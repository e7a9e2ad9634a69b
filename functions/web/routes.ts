// The console's route table: adding a page is one line here (method, path pattern, handler).
import type { WebRequest, WebResponse } from './http.ts';
import type { ConsoleContext } from './console-context.ts';
import { compliancePage, costsPage, lineagePage, usagePage } from './reports/report-handlers.ts';
import { approvalGet, approvalPost, home, pendingApprovals, recentPromotions, slackInteractions } from './console-handlers.ts';

export type RouteHandler = (req: WebRequest, params: Readonly<Record<string, string>>, ctx: ConsoleContext) => Promise<WebResponse>;

export interface Route {
  readonly method: 'GET' | 'POST';
  /** `/approvals/:execution/:token`: each `:name` matches one path segment. */
  readonly path: string;
  readonly handler: RouteHandler;
  /** Read-only operator pages: behind IAM or the OIDC authorizer in AWS. Links and Slack authenticate themselves. */
  readonly operator: boolean;
  /** Shown in the header when set. */
  readonly nav?: string;
}

export const consoleRoutes: readonly Route[] = [
  { method: 'GET', path: '/', handler: home, operator: true },
  { method: 'GET', path: '/approvals', handler: pendingApprovals, operator: true, nav: 'Pending approvals' },
  { method: 'GET', path: '/promotions', handler: recentPromotions, operator: true, nav: 'Recent promotions' },
  { method: 'GET', path: '/reports/compliance', handler: compliancePage, operator: true, nav: 'Compliance' },
  { method: 'GET', path: '/reports/costs', handler: costsPage, operator: true, nav: 'Costs' },
  { method: 'GET', path: '/reports/usage', handler: usagePage, operator: true, nav: 'Usage' },
  { method: 'GET', path: '/reports/lineage', handler: lineagePage, operator: true, nav: 'Lineage' },
  { method: 'GET', path: '/approvals/:execution/:token', handler: approvalGet, operator: false },
  { method: 'POST', path: '/approvals/:execution/:token', handler: approvalPost, operator: false },
  { method: 'POST', path: '/slack/interactions', handler: slackInteractions, operator: false },
];

/** Path prefixes that authenticate by signed link or Slack signature (no operator credentials). */
export const SELF_AUTHENTICATED_PREFIXES = ['/approvals/', '/slack/'] as const;

/** The route and its parameters for a request; undefined when none matches. */
export function matchRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
    const parts = route.path.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = parts.every((part, i) => {
      const seg = segments[i]!;
      if (part.startsWith(':')) {
        try {
          params[part.slice(1)] = decodeURIComponent(seg);
          return true;
        } catch {
          return false;
        }
      }
      return part === seg;
    });
    if (ok) return { route, params };
  }
  return undefined;
}
