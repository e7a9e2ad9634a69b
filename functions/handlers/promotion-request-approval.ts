// Lambda entry of the promotion state machine's RequestApproval state (.waitForTaskToken: stores the token for regman approve|reject).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionRequestApprovalFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
