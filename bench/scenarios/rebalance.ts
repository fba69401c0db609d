/**
 * `rebalance`: a group of 49 consumers (in `run` mode, so each releases partitions at once) is
 * Stable over a topic of 500 partitions; a 50th consumer joins. Timed: from its `subscribe` call
 * until the group is `Stable` again with all 50 members holding their new assignments, for each
 * assignor. Kafka takes seconds here (a join delay, then a JoinGroup/SyncGroup round trip per
 * member); in-process there is no delay to wait out.
 */

import { Broker, type Consumer } from 'kafkalite';
import type { Case, Scenario } from '../lib/harness.js';

const MEMBERS = 50;
const PARTITIONS = 500;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function stable(broker: Broker, consumers: Consumer[]): Promise<void> {
  for (;;) {
    const group = broker.group('g');
    if (group.state === 'Stable' && consumers.reduce((n, c) => n + c.assignment().length, 0) === PARTITIONS) return;
    await turn();
  }
}

function rebalanceCase(assignor: 'range' | 'roundrobin' | 'cooperative-sticky'): Case {
  return {
    name: `${assignor}: 50th member joins 49 over ${PARTITIONS} partitions, until Stable`,
    messages: 1,
    kind: 'duration',
    system: 'kafkalite',
    async prepare() {
      const broker = await Broker.open();
      await broker.createTopic('t', { partitions: PARTITIONS });
      const consumers: Consumer[] = [];
      const join = async (): Promise<Consumer> => {
        const c = broker.consumer({ groupId: 'g', assignor });
        await c.run({ eachMessage: () => undefined });
        consumers.push(c);
        return c;
      };
      for (let i = 0; i < MEMBERS - 1; i++) await (await join()).subscribe('t');
      await stable(broker, consumers);
      const last = broker.consumer({ groupId: 'g', assignor });
      await last.run({ eachMessage: () => undefined });
      return {
        async run() {
          consumers.push(last);
          const subscribed = last.subscribe('t');
          await stable(broker, consumers);
          await subscribed;
        },
        async finish() {
          const held = consumers.flatMap((c) => c.assignment().map((tp) => tp.partition));
          if (new Set(held).size !== PARTITIONS || held.length !== PARTITIONS) throw new Error('assignment is not a disjoint cover');
          await broker.close();
        },
      };
    },
  };
}

export const rebalance: Scenario = {
  name: 'rebalance',
  description: 'time for a group of 50 over 500 partitions to be Stable after a join, per assignor',
  cases() {
    return [rebalanceCase('range'), rebalanceCase('roundrobin'), rebalanceCase('cooperative-sticky')];
  },
};
