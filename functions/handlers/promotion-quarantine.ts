// Lambda entry of the promotion state machine's Quarantine state (a digest that failed a scan or signature gate).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionQuarantineFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
