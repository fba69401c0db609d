/**
 * kafka-python 2.0 (Debian's python3-kafka) against the listener: produce, consume without a
 * group (assign + seek), and a manual commit from a consumer with a group id but no membership
 * (generation -1), read back in-process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../listener-helpers.js';
import { python, requireKafkaPython } from './tools.js';

beforeAll(() => requireKafkaPython());

const PRODUCE = `
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks='all', linger_ms=0)
metas = []
for i in range(3):
    f = p.send('py', key=b'k%d' % i, value=b'v%d' % i, headers=[('h', b'%d' % i)], partition=0, timestamp_ms=1700000000000 + i)
    m = f.get(timeout=10)
    metas.append([m.partition, m.offset])
p.flush(); p.close()
print(json.dumps(metas))
`;

const CONSUME = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id=None, enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition('py', 0)
c.assign([tp])
c.seek(tp, int(sys.argv[2]))
out = []
for m in c:
    out.append([m.offset, m.key.decode() if m.key is not None else None, m.value.decode(), m.timestamp, [[k, v.decode()] for k, v in m.headers]])
    if m.offset >= int(sys.argv[3]):
        break
c.close()
print(json.dumps(out))
`;

const COMMIT = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id='py-group', enable_auto_commit=False)
tp = TopicPartition('py', 0)
c.assign([tp])
c.commit({tp: OffsetAndMetadata(2, '')})
committed = c.committed(tp)
c.close()
print(json.dumps(committed))
`;

describe('kafka-python', () => {
  it('produces; an in-process reader sees the same offsets, keys, values, headers and timestamps', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('py');
    const { result, run } = await python(PRODUCE, [listener.address]);
    expect(result, run.stderr).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    const records = await broker.topic('py').partition(0).read(0);
    expect(records.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp, r.headers.h!.toString()])).toEqual([0, 1, 2].map((i) => [i, `k${i}`, `v${i}`, 1_700_000_000_000 + i, `${i}`]));
  });

  it('consumes without a group (assign + seek) what in-process producers wrote', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('py');
    const p = broker.producer();
    for (let i = 0; i < 4; i++) await p.send({ topic: 'py', messages: [{ key: `k${i}`, value: `v${i}`, timestamp: 1_700_000_000_000 + i, headers: { n: String(i) } }] });
    const { result, run } = await python(CONSUME, [listener.address, '1', '3']);
    expect(result, run.stderr).toEqual([1, 2, 3].map((i) => [i, `k${i}`, `v${i}`, 1_700_000_000_000 + i, [['n', `${i}`]]]));
  });

  it('commits offsets without joining a group; broker.group(id).committed reads them', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('py');
    const { result, run } = await python(COMMIT, [listener.address]);
    expect(result, run.stderr).toBe(2);
    expect(await broker.group('py-group').committed({ topic: 'py', partition: 0 })).toBe(2);
  });
});
