import type { TopicPartition } from '../types.js';

/**
 * Kafka's consumer protocol payloads (ConsumerProtocolSubscription and
 * ConsumerProtocolAssignment, version 0), the opaque member metadata and assignment bytes that
 * DescribeGroups reports: an int16 version, then topics as int32-counted int16-length strings
 * (with their int32 partitions, for an assignment), then null user data.
 */
export function encodeSubscription(topics: readonly string[]): Buffer {
  const names = topics.map((t) => Buffer.from(t, 'utf8'));
  const out = Buffer.alloc(2 + 4 + names.reduce((n, b) => n + 2 + b.length, 0) + 4);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(names.length, at);
  for (const b of names) {
    at = out.writeInt16BE(b.length, at);
    at += b.copy(out, at);
  }
  out.writeInt32BE(-1, at);
  return out;
}

export function encodeAssignment(assignment: readonly TopicPartition[]): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of assignment) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  const entries = [...byTopic].map(([t, ps]) => [Buffer.from(t, 'utf8'), ps.sort((a, b) => a - b)] as const);
  const out = Buffer.alloc(2 + 4 + entries.reduce((n, [b, ps]) => n + 2 + b.length + 4 + 4 * ps.length, 0) + 4);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(entries.length, at);
  for (const [name, partitions] of entries) {
    at = out.writeInt16BE(name.length, at);
    at += name.copy(out, at);
    at = out.writeInt32BE(partitions.length, at);
    for (const p of partitions) at = out.writeInt32BE(p, at);
  }
  out.writeInt32BE(-1, at);
  return out;
}
