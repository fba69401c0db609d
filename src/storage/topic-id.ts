import { randomUUID } from 'node:crypto';

/**
 * A new topic id, as Kafka's `Uuid.randomUuid()` makes it: a random (version 4) UUID written as
 * 22 characters of unpadded base64url — the form Metadata v10+, Fetch v13+ and DeleteTopics v6+
 * carry and `kafka-topics --describe` prints. Like Kafka, it never hands out the all-zero id
 * (meaning "no id" on the wire) or the metadata topic's reserved id, nor one whose text starts
 * with `-` (which command-line tools would read as an option).
 */
export function newTopicId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-') && id !== ZERO_TOPIC_ID && id !== METADATA_TOPIC_ID) return id;
  }
}

/** Kafka's `Uuid.ZERO_UUID`: "no topic id". */
export const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's `Uuid.METADATA_TOPIC_ID`, reserved for KRaft's `__cluster_metadata`. */
const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** True for a string in the form {@link newTopicId} returns (22 base64url characters, not the zero id). */
export function isTopicId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value) && value !== ZERO_TOPIC_ID;
}
