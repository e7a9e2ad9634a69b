// Lambda entry of the promotion state machine's TestsGate state (test Lambda, CodeBuild project or HTTP hook).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionTestsGateFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
