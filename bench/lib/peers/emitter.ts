/**
 * An event bus: Node's `EventEmitter` and `eventemitter3`, what many applications use in-process
 * instead of a log. `emit` calls the listeners synchronously, one payload object per message; a
 * listener that was not registered when the event fired never sees it.
 */

import { EventEmitter } from 'node:events';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import { Tally, VALUE_SIZE, type Case } from '../harness.js';
import { LatencyRecorder, pacedTrial } from '../latency.js';

export type EmitterKind = 'EventEmitter' | 'eventemitter3';

export const EMITTER_LACKS =
  'no retention (a message is gone once emitted), no replay or offsets, no consumer groups or partitions, ' +
  'no backpressure (a slow listener blocks the emitter), no persistence';

const VALUE = Buffer.alloc(VALUE_SIZE, 0x61);

interface Bus {
  on(event: 'm', listener: (record: { offset: number; value: Buffer }) => void): unknown;
  emit(event: 'm', record: { offset: number; value: Buffer }): boolean;
}

function makeBus(kind: EmitterKind): Bus {
  if (kind === 'EventEmitter') {
    const ee = new EventEmitter();
    ee.setMaxListeners(0);
    return ee as unknown as Bus;
  }
  return new EventEmitter3() as unknown as Bus;
}

/** `emit` once per message (a fresh `{ offset, value }` payload), `listeners` listeners each counting every record. */
export function emitterThroughputCase(kind: EmitterKind, messages: number, listeners = 1): Case {
  const fanOut = listeners > 1;
  return {
    name: fanOut
      ? `${kind}: emit → ${listeners} listeners (${messages.toLocaleString('en-US')} msgs × ${listeners})`
      : `${kind}: emit({ offset, value }) → 1 listener`,
    messages: messages * listeners,
    system: kind,
    durability: 'none',
    lacks: EMITTER_LACKS,
    prepare() {
      const bus = makeBus(kind);
      const tallies = Array.from({ length: listeners }, () => new Tally());
      for (const tally of tallies) bus.on('m', (record) => tally.add(record));
      return {
        run() {
          for (let offset = 0; offset < messages; offset++) bus.emit('m', { offset, value: VALUE });
        },
        finish() {
          tallies.forEach((t, i) => t.verify(messages, `${kind} listener ${i}`));
        },
      };
    },
  };
}

/** Latency at a fixed rate: the pacer emits, the listener records. */
export function emitterLatencyCase(kind: EmitterKind, name: string, rate: number, messages: number, baseline: boolean, id?: string): Case {
  return {
    name,
    ...(id === undefined ? {} : { id }),
    messages,
    kind: 'latency',
    rate,
    baseline,
    system: baseline ? 'ceiling' : kind,
    durability: 'none',
    ...(baseline ? {} : { lacks: EMITTER_LACKS }),
    prepare() {
      const bus = makeBus(kind);
      const latency = new LatencyRecorder(messages);
      bus.on('m', (record) => latency.record(record.offset));
      return pacedTrial(latency, {
        rate,
        send(offset) {
          bus.emit('m', { offset, value: VALUE });
        },
        close() {},
      });
    },
  };
}
