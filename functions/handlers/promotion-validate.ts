// Lambda entry of the promotion state machine's Validate state (edge, tag → one digest, quarantine, hold, freeze, soak).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionValidateFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
