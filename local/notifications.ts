// Turns distribution `notifications` envelopes into EventBridge `ECR Image Action` events, as ECR would send them for a push.
import { createHash, randomUUID } from 'node:crypto';

/** Content type of a distribution notification envelope. https://distribution.github.io/distribution/about/notifications/ */
export const DISTRIBUTION_EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/**
 * The account and region of events from the local stack. They name no real AWS account; the region
 * must still look like one, because the handler validates events as ECR sends them
 * (functions/replication/event.ts), and 'local' is not a region.
 */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** Manifest media types: a push with one of these is an image push; anything else (layers, configs) is a blob. */
const MANIFEST_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/** One event of a distribution envelope (the fields we read; distribution sends more). */
export interface DistributionEvent {
  readonly id?: string;
  readonly timestamp?: string;
  readonly action?: string;
  readonly target?: {
    readonly mediaType?: string;
    readonly digest?: string;
    readonly repository?: string;
    readonly tag?: string;
    readonly size?: number;
    readonly url?: string;
  };
  readonly request?: { readonly id?: string; readonly addr?: string; readonly useragent?: string };
  readonly actor?: { readonly name?: string };
}

/** The EventBridge `ECR Image Action` event, as AWS documents it for a successful push. */
export interface EcrImageActionEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'ECR Image Action';
  readonly source: 'aws.ecr';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly result: 'SUCCESS';
    readonly 'action-type': 'PUSH';
    readonly 'repository-name': string;
    readonly 'image-digest': string;
    readonly 'image-tag'?: string;
    readonly 'manifest-media-type'?: string;
  };
}

export interface ConvertOptions {
  /** The registry that sent the envelope (part of the event id, so two sources never collide). */
  readonly registry: string;
  readonly account?: string;
  readonly region?: string;
}

/** Whether a distribution event is a manifest push (distribution also reports blob pushes, pulls, mounts and deletes). */
export function isManifestPush(event: DistributionEvent): boolean {
  if (event.action !== 'push' || !event.target?.digest || !event.target.repository) return false;
  const mediaType = event.target.mediaType ?? '';
  return MANIFEST_MEDIA_TYPES.has(mediaType) || (event.target.url ?? '').includes('/manifests/');
}

/**
 * The ECR event for each manifest push of an envelope; other events are dropped.
 *
 * The event id is derived from the registry's own event id, so a redelivered envelope (distribution
 * retries until it gets a 2xx) yields the same EventBridge id, as a duplicate EventBridge delivery would:
 * the handler's idempotency then does the work once.
 *
 * @example
 * const events = toImageActionEvents(JSON.parse(body), { registry: 'source' });
 */
export function toImageActionEvents(envelope: unknown, options: ConvertOptions): EcrImageActionEvent[] {
  const events = (envelope as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return [];
  const out: EcrImageActionEvent[] = [];
  for (const e of events as DistributionEvent[]) {
    if (typeof e !== 'object' || e === null || !isManifestPush(e)) continue;
    const target = e.target!;
    out.push({
      version: '0',
      id: e.id ? stableUuid(`${options.registry}\n${e.id}`) : randomUUID(),
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: options.account ?? LOCAL_ACCOUNT,
      time: ecrTime(e.timestamp),
      region: options.region ?? LOCAL_REGION,
      resources: [],
      detail: {
        result: 'SUCCESS',
        'action-type': 'PUSH',
        'repository-name': target.repository!,
        'image-digest': target.digest!,
        ...(target.tag ? { 'image-tag': target.tag } : {}),
        ...(target.mediaType && MANIFEST_MEDIA_TYPES.has(target.mediaType) ? { 'manifest-media-type': target.mediaType } : {}),
      },
    });
  }
  return out;
}

/** A UUID (RFC 9562 layout, version 5 bits) from the sha256 of `name`: the same name, the same id. */
export function stableUuid(name: string): string {
  const b = createHash('sha256').update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** EventBridge times have second precision in UTC (`2019-11-16T01:54:34Z`). */
function ecrTime(timestamp: string | undefined): string {
  const t = timestamp ? new Date(timestamp) : new Date();
  const valid = Number.isNaN(t.getTime()) ? new Date() : t;
  return valid.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
