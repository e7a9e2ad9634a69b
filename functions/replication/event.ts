// Parses the EventBridge `ECR Image Action` event (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html) into plain data.
import * as z from 'zod';
import { digestProblem } from '../oci/digest.ts';
import { repositoryProblem, tagProblem } from '../oci/reference.ts';
import { ReplicationEventError, type EventIssue } from './errors.ts';

/** Action types ECR documents for `ECR Image Action`; others may appear and are skipped, not rejected. */
export type ImageActionType = 'PUSH' | 'DELETE' | 'UPDATE_STORAGE_CLASS' | (string & {});
/** Results ECR documents; others may appear and are skipped, not rejected. */
export type ImageActionResult = 'SUCCESS' | 'FAILURE' | (string & {});

/** A parsed, validated `ECR Image Action` event. */
export interface ImageActionEvent {
  /** EventBridge event id: the correlation id of all the work this event causes. */
  readonly id: string;
  /** When ECR emitted the event (ISO 8601, as sent). */
  readonly time: string;
  /** 12-digit AWS account of the source registry. */
  readonly account: string;
  readonly region: string;
  /** `repository-name`: the repository's full path in the source registry. */
  readonly repository: string;
  /** `image-digest` */
  readonly digest: string;
  /** `image-tag`; absent for manifests pushed by digest (index children, referrers). */
  readonly tag?: string;
  /** `manifest-media-type`, when ECR sends it. */
  readonly mediaType?: string;
  readonly actionType: ImageActionType;
  readonly result: ImageActionResult;
}

export const IMAGE_ACTION_SOURCE = 'aws.ecr';
export const IMAGE_ACTION_DETAIL_TYPE = 'ECR Image Action';

/** Adds one issue per problem reported by `check` (undefined = fine). */
function checked(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** ISO 8601 date-time that names a real instant (`2023-02-29T…` is refused). */
function timeProblem(value: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return 'an ISO 8601 time such as 2019-11-16T01:54:34Z';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || Number.isNaN(Date.parse(value))) return 'a date that exists';
  return undefined;
}

const nonEmpty = z.string().min(1, { error: 'a non-empty string' });

const detailSchema = z.looseObject({
  'repository-name': checked(repositoryProblem),
  'image-digest': checked(digestProblem),
  'image-tag': checked(tagProblem).optional(),
  'manifest-media-type': nonEmpty.optional(),
  'action-type': nonEmpty,
  result: nonEmpty,
});

const eventSchema = z.looseObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, { error: 'an event id of letters, digits, ".", "_", ":" and "-" (at most 128)' }),
  source: z.literal(IMAGE_ACTION_SOURCE),
  'detail-type': z.literal(IMAGE_ACTION_DETAIL_TYPE),
  account: z.string().regex(/^\d{12}$/, { error: 'a 12-digit AWS account id' }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'an AWS region such as us-west-2' }),
  time: checked(timeProblem),
  detail: detailSchema,
});

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The value at a zod issue path, for the error message. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = data;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * The envelope is checked first so that a different event type gets one clear sentence instead of a
 * list of every missing `detail` field.
 */
function envelopeIssue(data: unknown): EventIssue | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { path: '', message: `expected an EventBridge event object, got ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}` };
  }
  const e = data as Record<string, unknown>;
  if (e.source !== IMAGE_ACTION_SOURCE) {
    return { path: 'source', message: `expected "${IMAGE_ACTION_SOURCE}", got ${show(e.source)}` };
  }
  const detailType = e['detail-type'];
  if (detailType === 'AWS API Call via CloudTrail') {
    const name = (e.detail as { eventName?: unknown } | undefined)?.eventName;
    return {
      path: 'detail-type',
      message: `a CloudTrail API call (${show(name)}) is not an image action: subscribe the rule to "${IMAGE_ACTION_DETAIL_TYPE}", which ECR sends once per pushed manifest`,
    };
  }
  if (detailType !== IMAGE_ACTION_DETAIL_TYPE) {
    return { path: 'detail-type', message: `expected "${IMAGE_ACTION_DETAIL_TYPE}", got ${show(detailType)}` };
  }
  return undefined;
}

/**
 * Validates an EventBridge `ECR Image Action` event and returns its fields as plain data. Every
 * action type and result parses (the caller decides what to replicate); a string is parsed as JSON
 * first (the local stack, queues).
 *
 * @throws ReplicationEventError (`EVENT_INVALID`, not retryable) naming every bad field, e.g.
 *   `detail.image-digest: a sha256 digest has 64 hex characters, this one has 60 (got "sha256:7f5b…")`.
 * @example
 * const e = parseImageActionEvent(event);
 * if (e.actionType === 'PUSH' && e.result === 'SUCCESS') await replicateImage({ event: e, ... }, deps);
 */
export function parseImageActionEvent(event: unknown): ImageActionEvent {
  let data = event;
  if (typeof event === 'string') {
    try {
      data = JSON.parse(event);
    } catch (err) {
      throw new ReplicationEventError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }], { cause: err });
    }
  }
  const envelope = envelopeIssue(data);
  if (envelope) throw new ReplicationEventError([envelope]);
  const parsed = eventSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue): EventIssue => {
      const value = valueAt(data, issue.path);
      const message = value === undefined ? 'required field is missing' : `${issue.message} (got ${show(value)})`;
      return { path: issue.path.map(String).join('.'), message };
    });
    throw new ReplicationEventError(issues, { cause: parsed.error });
  }
  const e = parsed.data;
  const d = e.detail;
  return {
    id: e.id,
    time: e.time,
    account: e.account,
    region: e.region,
    repository: d['repository-name'],
    digest: d['image-digest'],
    ...(d['image-tag'] !== undefined ? { tag: d['image-tag'] } : {}),
    ...(d['manifest-media-type'] !== undefined ? { mediaType: d['manifest-media-type'] } : {}),
    actionType: d['action-type'],
    result: d.result,
  };
}

/**
 * The event id, when the (possibly invalid) event has a usable one: the correlation id of a
 * rejected event, falling back to the Lambda request id.
 */
export function eventIdOf(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id) ? id : undefined;
}

/**
 * Builds an `ECR Image Action` PUSH/SUCCESS event: what the local stack emits for a registry
 * notification, and what tests feed the handler. The shape is the AWS-documented sample's.
 */
export function imageActionEvent(input: {
  readonly id: string;
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string;
  readonly mediaType?: string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: Date | string;
  readonly actionType?: ImageActionType;
  readonly result?: ImageActionResult;
}): Record<string, unknown> {
  const time = input.time === undefined ? new Date() : input.time;
  return {
    version: '0',
    id: input.id,
    'detail-type': IMAGE_ACTION_DETAIL_TYPE,
    source: IMAGE_ACTION_SOURCE,
    account: input.account ?? '000000000000',
    time: typeof time === 'string' ? time : time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: input.region ?? 'us-east-1',
    resources: [],
    detail: {
      result: input.result ?? 'SUCCESS',
      'repository-name': input.repository,
      'image-digest': input.digest,
      'action-type': input.actionType ?? 'PUSH',
      ...(input.tag !== undefined ? { 'image-tag': input.tag } : {}),
      ...(input.mediaType !== undefined ? { 'manifest-media-type': input.mediaType } : {}),
    },
  };
}
