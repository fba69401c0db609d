/**
 * KafkaJS' instrumentation events: `client.on(client.events.X, listener)` returns the function
 * that removes the listener; each event is `{ id, type, timestamp, payload }`; listeners run
 * synchronously when the event is emitted, and their failures are logged, never thrown.
 */

import { EventEmitter } from 'node:events';
import { KafkaJSNonRetriableError } from './errors.js';
import type { InstrumentationEvent, Logger } from './types.js';

let nextId = 0;

export class Instrumentation<Events extends { [K in keyof Events]: string }> {
  readonly events: Events;
  #emitter = new EventEmitter();
  #names: Set<string>;
  #kind: string;
  #logger: Logger;
  #now: () => number;

  /** `now` stamps events: the cluster's clock. */
  constructor(kind: 'consumer' | 'producer' | 'admin', events: Events, logger: Logger, now: () => number) {
    this.events = events;
    this.#now = now;
    this.#kind = kind;
    this.#names = new Set(Object.values(events) as string[]);
    this.#logger = logger;
    this.#emitter.setMaxListeners(0);
  }

  emit(type: Events[keyof Events], payload: unknown = null): void {
    if (this.#emitter.listenerCount(type) === 0) return;
    const event: InstrumentationEvent<unknown> = { id: String(nextId++), type, timestamp: this.#now(), payload };
    this.#emitter.emit(type, event);
  }

  on(eventName: string, listener: (event: never) => unknown): () => void {
    if (!this.#names.has(eventName)) {
      const keys = Object.keys(this.events).map((k) => `${this.#kind}.events.${k}`);
      throw new KafkaJSNonRetriableError(`Event name should be one of ${keys.join(', ')}`);
    }
    const wrapped = (event: InstrumentationEvent<unknown>): void => {
      const failed = (e: unknown): void =>
        this.#logger.error(`Failed to execute listener: ${e instanceof Error ? e.message : String(e)}`, {
          eventName,
          stack: e instanceof Error ? e.stack : undefined,
        });
      try {
        Promise.resolve((listener as (event: InstrumentationEvent<unknown>) => unknown)(event)).catch(failed);
      } catch (e) {
        failed(e);
      }
    };
    this.#emitter.addListener(eventName, wrapped);
    return () => void this.#emitter.removeListener(eventName, wrapped);
  }
}

export const producerEvents = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const;

export const consumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;

export const adminEvents = {
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: 'admin.network.request',
  REQUEST_TIMEOUT: 'admin.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size',
} as const;
