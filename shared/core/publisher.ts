/** Publishing to Pub/Sub (shared/platform/pubsub-publisher.ts); tests record the messages instead. */
export interface Publisher {
  /** Resolves once the message is accepted by Pub/Sub (every publish is awaited). */
  publish(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string>;
}

/** A Pub/Sub topic: its key in the configuration, the variable that renames it, and its default name. */
export interface TopicDeclaration {
  key: string;
  env: string;
  name: string;
}
