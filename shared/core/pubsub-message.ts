/** The `data` of the CloudEvent that Pub/Sub delivers to a 2nd-gen function. */
export interface MessagePublishedData {
  message?: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
    message_id?: string;
    publishTime?: string;
    publish_time?: string;
  };
  subscription?: string;
}

/** A delivered Pub/Sub message, decoded from the CloudEvent envelope. */
export interface InboundMessage {
  /** raw payload bytes */
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTimeMs: number;
}

/** Decodes the envelope. Falls back to the CloudEvent's own id and time, which carry the same values. */
export function decodeCloudEvent(
  event: { id?: string; time?: string; data?: MessagePublishedData | undefined },
  nowMs: number,
): InboundMessage {
  const m = event.data?.message ?? {};
  const messageId = m.messageId ?? m.message_id ?? event.id ?? '';
  const publishTime = m.publishTime ?? m.publish_time ?? event.time;
  const parsed = publishTime ? Date.parse(publishTime) : NaN;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.attributes ?? {})) if (typeof v === 'string') attributes[k] = v;
  return {
    data: typeof m.data === 'string' ? Buffer.from(m.data, 'base64') : Buffer.alloc(0),
    attributes,
    messageId,
    publishTimeMs: Number.isFinite(parsed) ? parsed : nowMs,
  };
}

/** Thrown when a request is not a Pub/Sub delivery in any shape speedcam knows. */
export class NotAPushRequest extends Error {}

/**
 * Decodes a Pub/Sub delivery as it reaches an HTTP function, in each shape it can arrive in:
 * - the push body of a push subscription, `{message:{data?, attributes?, messageId, message_id,
 *   publishTime, publish_time}, subscription, deliveryAttempt?}` (data is absent for an attributes-only
 *   message, which the functions-framework's own conversion drops);
 * - a binary-mode CloudEvent (Eventarc: `ce-id`/`ce-time` headers, body `{message, subscription}`);
 * - a structured CloudEvent (`{specversion, id, time, data:{message, subscription}}`).
 */
export function decodePushRequest(headers: Record<string, string | string[] | undefined>, body: unknown, nowMs: number): InboundMessage {
  const header = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const ce = typeof b['specversion'] === 'string' ? b : null;
  const envelope = (ce ? ce['data'] : b) as MessagePublishedData | undefined;
  const m = envelope?.message;
  if (!m || typeof m !== 'object' || (m.data !== undefined && typeof m.data !== 'string'))
    throw new NotAPushRequest('no Pub/Sub message in the request');
  return decodeCloudEvent(
    {
      id: (ce?.['id'] as string | undefined) ?? header('ce-id'),
      time: (ce?.['time'] as string | undefined) ?? header('ce-time'),
      data: envelope,
    },
    nowMs,
  );
}
