// Lambda entry of the promotion state machine's ApplyTags state (records previous digests, retags where the digest is).
import { readEnvironment } from '../env.ts';
import { moduleDir } from './deps.ts';
import { promotionDepsFromEnvironment, promotionTaskHandler } from './promotion-lambda.ts';

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

export const handler = promotionTaskHandler('PromotionApplyTagsFunctionArn', () => promotionDepsFromEnvironment(env, HANDLER_DIR));
