// Lambda entry of the promotion state machine's Record states (the promotion record, history and audit).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionRecordFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
