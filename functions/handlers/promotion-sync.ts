// Lambda entry of the promotion state machine's Sync Map item (copies the digest with its referrers into one target registry).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionSyncFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
