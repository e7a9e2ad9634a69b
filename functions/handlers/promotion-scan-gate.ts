// Lambda entry of the promotion state machine's ScanGate state (referrer report or ECR findings against the edge's thresholds).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionScanGateFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
