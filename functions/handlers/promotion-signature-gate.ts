// Lambda entry of the promotion state machine's SignatureGate state (cosign .sig or sigstore bundle by a configured key).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionSignatureGateFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
