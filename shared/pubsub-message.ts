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
