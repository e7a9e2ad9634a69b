// Amazon ECR lifecycle policies: validation that quotes the AWS rule broken.
// Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
import { PolicyError, type InputIssue } from './errors.ts';
import type { EcrPolicy, EcrRule } from './types.ts';

/** The AWS documentation sentences our validation enforces, quoted in error messages. */
export const AWS_RULES = {
  priorityUnique: 'When you add rules to a lifecycle policy, you must give them each a unique value for rulePriority.',
  priorityInteger: 'rulePriority: Type: integer. Required: yes.',
  anyLast: 'A rule with a tagStatus value of any must have the highest value for rulePriority and be evaluated last.',
  tagStatus: 'Acceptable options are tagged, untagged, or any.',
  taggedNeedsList: 'If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value.',
  untaggedNoList: 'If you specify untagged, then you must omit both tagPrefixList and tagPatternList.',
  prefixOnlyTagged: 'tagPrefixList: Only used if you specified "tagStatus": "tagged" and you aren\'t specifying a tagPatternList.',
  wildcards: 'There is a maximum limit of four wildcards (*) per string.',
  uniquePrefixes: 'The set of rules must contain a unique set of tag prefixes.',
  oneUntagged: 'Only one rule is allowed to select untagged images.',
  countType: 'countType must be imageCountMoreThan, sinceImagePushed, sinceImagePulled or sinceImageTransitioned.',
  countUnitRequired: 'countUnit: Required: yes, only if countType is set to sinceImagePushed, sinceImagePulled, or sinceImageTransitioned.',
  countUnitForbidden: 'an error will occur if you specify a count unit when countType is any other value.',
  countUnitDays: 'Specify a count unit of days to indicate that as the unit of time.',
  countNumber: 'Acceptable values are positive integers (0 is not an accepted value).',
  actionType: 'The supported values are expire (to delete images) and transition (to move images to archive storage).',
  targetStorageClass: 'targetStorageClass: Required: yes, if type is transition. archive is the only supported value.',
  storageClassStandard: 'When using a countType of imageCountMoreThan, sinceImagePushed, or sinceImagePulled, the only supported value is standard.',
  storageClassArchive: 'When using a count type of sinceImageTransitioned, this is required, and the only supported value is archive.',
  pulledTransition: 'The sinceImagePulled count type must be used with the transition action. It cannot be used with the expire action.',
  transitionedExpire: 'The sinceImageTransitioned count type must be used with the expire action and the archive storage class.',
  archiveMinimum: 'Images must be in archive storage for a minimum of 90 days before deletion.',
  rulesRequired: 'A lifecycle policy contains one or more rules.',
  maxRules: 'Rules per lifecycle policy: 50 (service quota).',
} as const;

const SELECTION_KEYS = new Set(['tagStatus', 'tagPrefixList', 'tagPatternList', 'storageClass', 'countType', 'countUnit', 'countNumber']);
const RULE_KEYS = new Set(['rulePriority', 'description', 'selection', 'action']);
const ACTION_KEYS = new Set(['type', 'targetStorageClass']);
const COUNT_TYPES = new Set(['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0);
}

/** Validates one rule; pushes issues quoting the AWS rule and returns the rule when it is well-formed. */
function validateRule(raw: unknown, path: string, issues: InputIssue[]): EcrRule | undefined {
  const start = issues.length;
  const bad = (where: string, message: string, value?: unknown) =>
    issues.push({ path: `${path}${where}`, message, ...(value !== undefined ? { value } : {}) });
  if (!isObject(raw)) {
    bad('', 'a rule must be an object', raw);
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!RULE_KEYS.has(key)) bad(`.${key}`, 'unknown rule property (allowed: rulePriority, description, selection, action)');
  if (!isPositiveInt(raw.rulePriority)) bad('.rulePriority', `must be a positive integer; AWS: "${AWS_RULES.priorityInteger}"`, raw.rulePriority);
  if (raw.description !== undefined && typeof raw.description !== 'string') bad('.description', 'must be a string', raw.description);
  const sel = raw.selection;
  const act = raw.action;
  if (!isObject(sel)) bad('.selection', 'is required and must be an object', sel);
  if (!isObject(act)) bad('.action', 'is required and must be an object', act);
  if (!isObject(sel) || !isObject(act)) return undefined;
  for (const key of Object.keys(sel)) if (!SELECTION_KEYS.has(key)) bad(`.selection.${key}`, `unknown selection property (allowed: ${[...SELECTION_KEYS].join(', ')})`);
  for (const key of Object.keys(act)) if (!ACTION_KEYS.has(key)) bad(`.action.${key}`, 'unknown action property (allowed: type, targetStorageClass)');

  const { tagStatus, tagPrefixList, tagPatternList, countType, countUnit, countNumber } = sel;
  if (tagStatus !== 'tagged' && tagStatus !== 'untagged' && tagStatus !== 'any') bad('.selection.tagStatus', `AWS: "${AWS_RULES.tagStatus}"`, tagStatus);
  if (tagPrefixList !== undefined && !stringList(tagPrefixList)) bad('.selection.tagPrefixList', 'must be a non-empty list of non-empty strings', tagPrefixList);
  if (tagPatternList !== undefined && !stringList(tagPatternList)) bad('.selection.tagPatternList', 'must be a non-empty list of non-empty strings', tagPatternList);
  if (tagStatus === 'tagged') {
    if (tagPrefixList === undefined && tagPatternList === undefined) bad('.selection', `tagStatus tagged needs tagPrefixList or tagPatternList; AWS: "${AWS_RULES.taggedNeedsList}"`);
    if (tagPrefixList !== undefined && tagPatternList !== undefined) bad('.selection', `give tagPrefixList or tagPatternList, not both; AWS: "${AWS_RULES.prefixOnlyTagged}"`);
  } else if (tagStatus === 'untagged' || tagStatus === 'any') {
    if (tagPrefixList !== undefined || tagPatternList !== undefined) {
      bad('.selection', `tagPrefixList and tagPatternList are only used with tagStatus tagged; AWS: "${tagStatus === 'untagged' ? AWS_RULES.untaggedNoList : AWS_RULES.prefixOnlyTagged}"`);
    }
  }
  if (stringList(tagPatternList)) {
    tagPatternList.forEach((p, i) => {
      if ((p.match(/\*/g) ?? []).length > 4) bad(`.selection.tagPatternList[${i}]`, `has more than four wildcards; AWS: "${AWS_RULES.wildcards}"`, p);
    });
  }
  if (typeof countType !== 'string' || !COUNT_TYPES.has(countType)) bad('.selection.countType', AWS_RULES.countType, countType);
  const timed = countType === 'sinceImagePushed' || countType === 'sinceImagePulled' || countType === 'sinceImageTransitioned';
  if (timed && countUnit === undefined) bad('.selection.countUnit', `is required for ${String(countType)}; AWS: "${AWS_RULES.countUnitRequired}"`);
  if (timed && countUnit !== undefined && countUnit !== 'days') bad('.selection.countUnit', `AWS: "${AWS_RULES.countUnitDays}"`, countUnit);
  if (countType === 'imageCountMoreThan' && countUnit !== undefined) bad('.selection.countUnit', `must be omitted for imageCountMoreThan; AWS: "${AWS_RULES.countUnitForbidden}"`, countUnit);
  if (!isPositiveInt(countNumber)) bad('.selection.countNumber', `AWS: "${AWS_RULES.countNumber}"`, countNumber);

  const storageClass = sel.storageClass ?? 'standard';
  if (countType === 'sinceImageTransitioned') {
    if (sel.storageClass !== 'archive') bad('.selection.storageClass', `must be archive for sinceImageTransitioned; AWS: "${AWS_RULES.storageClassArchive}"`, sel.storageClass);
    if (isPositiveInt(countNumber) && countNumber < 90) bad('.selection.countNumber', `must be at least 90 for sinceImageTransitioned; AWS: "${AWS_RULES.archiveMinimum}"`, countNumber);
  } else if (storageClass !== 'standard') {
    bad('.selection.storageClass', `AWS: "${AWS_RULES.storageClassStandard}"`, sel.storageClass);
  }

  const type = act.type;
  if (type !== 'expire' && type !== 'transition') bad('.action.type', `AWS: "${AWS_RULES.actionType}"`, type);
  if (type === 'transition' && act.targetStorageClass !== 'archive') bad('.action.targetStorageClass', `AWS: "${AWS_RULES.targetStorageClass}"`, act.targetStorageClass);
  if (type === 'expire' && act.targetStorageClass !== undefined) bad('.action.targetStorageClass', 'is only used with action type transition', act.targetStorageClass);
  if (countType === 'sinceImagePulled' && type === 'expire') {
    bad('.action.type', `sinceImagePulled cannot expire; AWS: "${AWS_RULES.pulledTransition}"`, type);
  }
  if (countType === 'sinceImageTransitioned' && type === 'transition') {
    bad('.action.type', `sinceImageTransitioned must expire; AWS: "${AWS_RULES.transitionedExpire}"`, type);
  }
  if (issues.length > start) return undefined;
  return {
    rulePriority: raw.rulePriority as number,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    selection: {
      tagStatus: tagStatus as EcrRule['selection']['tagStatus'],
      ...(tagPrefixList !== undefined ? { tagPrefixList: tagPrefixList as string[] } : {}),
      ...(tagPatternList !== undefined ? { tagPatternList: tagPatternList as string[] } : {}),
      storageClass: storageClass as 'standard' | 'archive',
      countType: countType as EcrRule['selection']['countType'],
      ...(countUnit !== undefined ? { countUnit: 'days' as const } : {}),
      countNumber: countNumber as number,
    },
    action: { type: type as 'expire' | 'transition', ...(type === 'transition' ? { targetStorageClass: 'archive' as const } : {}) },
  };
}

/**
 * Validates an ECR lifecycle policy: `{ "rules": [...] }`, or the `aws ecr get-lifecycle-policy` output
 * with its `lifecyclePolicyText` string. Each error quotes the AWS rule it breaks.
 */
export function parseEcrPolicy(input: unknown, source?: string): EcrPolicy {
  let doc = input;
  if (isObject(doc) && typeof doc.lifecyclePolicyText === 'string') {
    try {
      doc = JSON.parse(doc.lifecyclePolicyText);
    } catch (err) {
      throw new PolicyError('ecr', [{ path: 'lifecyclePolicyText', message: `is not JSON: ${(err as Error).message}` }], source);
    }
  }
  const issues: InputIssue[] = [];
  if (!isObject(doc) || !Array.isArray(doc.rules) || doc.rules.length === 0) {
    throw new PolicyError('ecr', [{ path: 'rules', message: `must be a non-empty list; AWS: "${AWS_RULES.rulesRequired}"`, value: isObject(doc) ? doc.rules : doc }], source);
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'rules' && key !== 'format' && key !== 'registryId' && key !== 'repositoryName' && key !== 'lastEvaluatedAt') {
      issues.push({ path: key, message: 'unknown top-level property (an ECR lifecycle policy has only rules)' });
    }
  }
  if (doc.rules.length > 50) issues.push({ path: 'rules', message: `has ${doc.rules.length} rules; AWS: "${AWS_RULES.maxRules}"` });
  const rules: EcrRule[] = [];
  doc.rules.forEach((raw, index) => {
    const rule = validateRule(raw, `rules[${index}]`, issues);
    if (rule) rules.push(rule);
  });
  // Cross-rule checks use every rule whose own fields are usable, even if another field of it is wrong,
  // so one run reports all the problems.
  const heads = doc.rules.flatMap((raw, index) => {
    if (!isObject(raw) || !isPositiveInt(raw.rulePriority)) return [];
    const sel = isObject(raw.selection) ? raw.selection : {};
    return [{ index, priority: raw.rulePriority, tagStatus: sel.tagStatus, prefix: sel.tagPrefixList, pattern: sel.tagPatternList }];
  });
  const byPriority = new Map<number, number>();
  for (const h of heads) {
    const other = byPriority.get(h.priority);
    if (other !== undefined) {
      issues.push({ path: `rules[${h.index}].rulePriority`, message: `duplicates rules[${other}].rulePriority; AWS: "${AWS_RULES.priorityUnique}"`, value: h.priority });
    } else byPriority.set(h.priority, h.index);
  }
  const ordered = [...heads].sort((a, b) => a.priority - b.priority);
  const highest = ordered[ordered.length - 1]?.priority;
  for (const h of ordered) {
    if (h.tagStatus === 'any' && h.priority !== highest) {
      issues.push({ path: `rules[${h.index}].rulePriority`, message: `a tagStatus any rule must have the highest rulePriority; AWS: "${AWS_RULES.anyLast}"`, value: h.priority });
    }
  }
  const untagged = ordered.filter((h) => h.tagStatus === 'untagged');
  if (untagged.length > 1) {
    issues.push({ path: `rules[${(untagged[1] as { index: number }).index}].selection.tagStatus`, message: `a second rule selects untagged images; AWS: "${AWS_RULES.oneUntagged}"`, value: 'untagged' });
  }
  const lists = new Map<string, number>();
  for (const h of ordered) {
    const list = stringList(h.prefix) ? h.prefix : stringList(h.pattern) ? h.pattern : undefined;
    if (!list) continue;
    const key = `${stringList(h.prefix) ? 'prefix' : 'pattern'}:${[...list].sort().join('\u0000')}`;
    const other = lists.get(key);
    if (other !== undefined) {
      issues.push({ path: `rules[${h.index}].selection`, message: `has the same tag filter as the rule with rulePriority ${other}; AWS: "${AWS_RULES.uniquePrefixes}"`, value: list });
    } else lists.set(key, h.priority);
  }
  const sorted = rules.sort((a, b) => a.rulePriority - b.rulePriority);
  if (issues.length > 0) throw new PolicyError('ecr', issues, source);
  return { format: 'ecr', rules: sorted };
}
