// Lambda entry of the promotion state machine's Rollback state (restores every tag the run moved).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionRollbackFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
