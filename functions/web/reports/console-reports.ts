// What the console's report pages read: one function per report, supplied by whoever runs the console (the local stack: local/reports.ts).
import type { ComplianceReport } from '../../reports/compliance.ts';
import type { CostReport } from '../../reports/costs/report.ts';
import type { Lineage } from '../../reports/lineage/model.ts';
import type { UsageReport } from '../../reports/usage/model.ts';

export interface ReportPeriod {
  /** ISO bounds, already parsed: [since, until). */
  readonly since: string;
  readonly until: string;
}

export interface ConsoleReports {
  compliance(period: ReportPeriod & { readonly protectedEnvironments: readonly string[] }): Promise<ComplianceReport>;
  costs(options: { readonly registries: readonly string[] }): Promise<CostReport>;
  usage(period: ReportPeriod & { readonly registries: readonly string[] }): Promise<UsageReport>;
  /**
   * The lineage of an image on a configured registry. An image on any other host is refused
   * (`ReportError` REPORT_UNKNOWN_REGISTRY): the console must not fetch from addresses a visitor types.
   */
  lineage(image: string): Promise<Lineage>;
}
