// The zod schema of a promotion edge's CI triggers: which GitHub / GitLab events start a promotion on that edge.
import * as z from 'zod';
import { quote } from './errors.ts';
import { patternError } from './patterns.ts';
import { addProblem, strict } from './schema-helpers.ts';

const PATTERN_EXPECTED = 'a glob like v* or a regex like /^v\\d+\\.\\d+\\.\\d+$/';
const tagPattern = z
  .string({ error: PATTERN_EXPECTED })
  .min(1, { error: PATTERN_EXPECTED })
  .superRefine((p, ctx) => {
    const err = patternError(p);
    if (err) addProblem(ctx, `invalid regex ${quote(p)}: ${err}`, 'a JavaScript regular expression between slashes');
  });

/**
 * One trigger: a GitHub `release` (action `published`) or a tag push (GitHub `push` of `refs/tags/…`,
 * GitLab `Tag Push Hook`) in the CI project `project` (owner/name or group/path; any when left out),
 * whose tag matches `tags`, promotes image `repository` at that tag on this edge.
 */
export const promotionTriggerSchema = strict({
  provider: z.enum(['github', 'gitlab'], { error: 'github or gitlab' }),
  event: z.enum(['release', 'tag'], { error: 'release (GitHub release published) or tag (a tag push)' }),
  project: z.string({ error: 'the CI project path, e.g. acme/app' }).min(1, { error: 'the CI project path, e.g. acme/app' }).optional(),
  tags: z.array(tagPattern, { error: `a list of patterns (${PATTERN_EXPECTED})` }).default(['*']),
  /** The image repository to promote (in the edge's `from` environment). */
  repository: z.string({ error: 'an image repository, e.g. team/app' }).min(1, { error: 'an image repository, e.g. team/app' }),
}).superRefine((t, ctx) => {
  if (t.provider === 'gitlab' && t.event === 'release') addProblem(ctx, 'gitlab has no release trigger here', 'event: tag (GitLab Tag Push Hook)', ['event']);
});
