// What the console's handlers need: the approvals engine, Slack's signing secret, and where recent promotions come from.
import type { ApprovalService } from '../approvals/service.ts';
import type { PostJson } from '../approvals/notify/slack.ts';
import type { PromotionRow } from './console-pages.ts';
import type { NavLink } from './layout.ts';
import type { ConsoleReports } from './reports/console-reports.ts';

export interface ConsoleContext {
  readonly approvals: ApprovalService;
  /** Slack app signing secret; the Slack route answers 404 without it. */
  readonly slackSigningSecret?: () => Promise<string>;
  readonly slackPost?: PostJson;
  /** Recent promotions (the promotions table); the ended approval requests when absent. */
  readonly recentPromotions?: () => Promise<readonly PromotionRow[]>;
  /** The report pages' data (compliance, costs, usage, lineage); those pages answer 404 without it. */
  readonly reports?: ConsoleReports;
  /** Header links, from the route table (set by serveConsole). */
  readonly nav?: readonly NavLink[];
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}
