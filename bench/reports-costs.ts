// Benchmark child: `report costs` over the 100k-tag inventory and the audit log on --endpoint; prints its phases as JSON (run under GNU time by bench/reports.ts).
import { parseArgs } from 'node:util';
import { openDynamoAuditLog } from '../functions/audit/index.ts';
import { costRecords } from '../functions/reports/costs/records.ts';
import { buildCostReport } from '../functions/reports/costs/report.ts';
import { priceSheetFor, type RegistryKind } from '../functions/reports/costs/prices.ts';
import type { CostRegistryInput } from '../functions/reports/costs/model.ts';
import { PERIOD_DAYS, PERIOD_END, costInventory } from './reports-data.ts';

const { values } = parseArgs({ options: { endpoint: { type: 'string' }, table: { type: 'string', default: 'audit' } } });
const REGISTRIES: { name: string; kind: RegistryKind; region?: string; inventory: number | undefined }[] = [
  { name: 'ecr-main', kind: 'ecr', region: 'us-east-1', inventory: 0 },
  { name: 'gar-eu', kind: 'gar', region: 'europe-west1', inventory: 1 },
  { name: 'acr-west', kind: 'acr', region: 'westeurope', inventory: undefined },
  { name: 'hub', kind: 'dockerhub', inventory: undefined },
];

/** CPU of this process (user + system) in ms: unlike wall time, not stretched by the other processes on a loaded machine. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const t0 = performance.now();
const c0 = cpuMs();
const registries: CostRegistryInput[] = REGISTRIES.map((r) => ({
  name: r.name,
  kind: r.kind,
  ...(r.region ? { region: r.region } : {}),
  sheet: priceSheetFor(r.name, r.kind),
  repositories: r.inventory === undefined ? [] : costInventory(r.inventory),
}));
const tags = registries.reduce((n, r) => n + r.repositories.reduce((m, inv) => m + inv.images.reduce((k, i) => k + i.tags.length, 0), 0), 0);
const inventoryMs = performance.now() - t0;
const inventoryCpuMs = cpuMs() - c0;
const now = new Date(PERIOD_END);
const since = new Date(PERIOD_END - PERIOD_DAYS * 86_400_000).toISOString();

const { log, close } = openDynamoAuditLog({ tableName: values.table!, endpoint: values.endpoint!, region: 'us-east-1' });
let records = 0;
// The report reads the whole log first, then runs the storage and savings models: the moment the
// stream ends splits the two (the model is not run a second time on its own).
let logMs = 0;
let logCpuMs = 0;
async function* counted() {
  for await (const page of costRecords(log, since)) {
    records += page.length;
    yield page;
  }
  logMs = performance.now() - t2;
  logCpuMs = cpuMs() - c2;
}
const t2 = performance.now();
const c2 = cpuMs();
const report = await buildCostReport(registries, counted(), { now });
const reportMs = performance.now() - t2;
const reportCpuMs = cpuMs() - c2;
const modelMs = reportMs - logMs;
const modelCpuMs = reportCpuMs - logCpuMs;
close();
process.stdout.write(
  JSON.stringify({ tags, repositories: registries.reduce((n, r) => n + r.repositories.length, 0), inventoryMs, logMs, modelMs, reportMs, inventoryCpuMs, logCpuMs, modelCpuMs, reportCpuMs, records, pairs: report.transfer.pairs.length, totalPerMonth: report.totalPerMonth, savings: report.savings.length }) + '\n',
);
