// Wires promotions into the local stack: the store on the stack's dynalite, the minimal approvals requester, the runner and its routes.
import { pusherFromAudit } from '../functions/promotion/pusher-of.ts';
import { MinimalApprovalRequester } from '../functions/approvals/minimal-requester.ts';
import type { ApprovalRequester } from '../functions/approvals/requester.ts';
import type { AuditLog } from '../functions/audit/audit-log.ts';
import type { RegmanConfig } from '../functions/config/types.ts';
import { createDynamoClients } from '../functions/dynamo/client.ts';
import type { GateName, GateRunner, PromotionDeps } from '../functions/promotion/deps.ts';
import { DynamoPromotionStore } from '../functions/promotion/store.ts';
import { createGateRunners } from '../functions/promotion/gate-runners.ts';
import type { RegistryAdapter } from '../functions/registries/adapter.ts';
import type { SecretResolver } from '../functions/registries/secrets.ts';
import type { ControlRequest, ControlResponse } from './control-server.ts';
import type { LocalDynamo } from './dynamodb.ts';
import { promotionRoutes } from './promotion-routes.ts';
import { createLocalPromotions, type LocalPromotions } from './promotions.ts';

export interface LocalPromotionSetup {
  readonly promotions: LocalPromotions;
  readonly store: DynamoPromotionStore;
  readonly routes: (req: ControlRequest) => Promise<ControlResponse | undefined>;
  /** Lets running executions finish, then closes the store's client. */
  stop(): Promise<void>;
}

export function startLocalPromotions(o: {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly audit: Pick<AuditLog, 'append' | 'iterate'>;
  readonly db: Pick<LocalDynamo, 'endpoint' | 'tables'>;
  readonly gates?: Readonly<Partial<Record<GateName, GateRunner>>>;
  readonly log: (line: string) => void;
  /** The approvals engine (signed links, outbox); the minimal requester when absent. */
  readonly approvals?: ApprovalRequester;
  /** Resolves the signature gate's secretName keys (the stack: files in <state>/secrets/). */
  readonly secrets?: SecretResolver;
}): LocalPromotionSetup {
  const clients = createDynamoClients({ endpoint: o.db.endpoint, region: 'local' });
  const store = new DynamoPromotionStore({ docClient: clients.docClient, tables: o.db.tables });
  const deps: PromotionDeps = {
    config: o.config,
    adapters: o.adapters,
    audit: o.audit,
    store,
    pusherOf: pusherFromAudit(o.audit),
    approvals: o.approvals ?? new MinimalApprovalRequester({ store, edges: o.config.promotion }),
    // Locally the scan gate reads referrer reports (SARIF / Trivy JSON) from the source registry.
    gates: o.gates ?? createGateRunners({ adapters: o.adapters, ...(o.secrets ? { secrets: o.secrets } : {}) }),
  };
  const promotions = createLocalPromotions({ deps: () => deps, log: o.log });
  return {
    promotions,
    store,
    routes: promotionRoutes(promotions, store, deps),
    async stop() {
      // An execution waiting for an approval never ends by itself: do not wait for those.
      clients.destroy();
    },
  };
}
