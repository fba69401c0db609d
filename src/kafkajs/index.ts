/**
 * kafkalite/kafkajs — KafkaJS 2.x' API on kafkalite's in-process broker. Existing KafkaJS code runs
 * unchanged against it: swap the import (`import { Kafka } from 'kafkalite/kafkajs'`) or mock the
 * module (`vi.mock('kafkajs', () => import('kafkalite/kafkajs'))`). See docs/kafkajs.md.
 *
 * Everything KafkaJS' `kafkajs` module exports is exported here under the same name, plus the
 * cluster controls for tests: `resetCluster`, `closeAllClusters`, `getBroker`, `attachBroker`.
 */

export * from './exports.js';

// `import kafkajs from 'kafkajs'` works on KafkaJS (a CommonJS module); so it does here, also when
// `kafkajs` is mocked with this module.
import * as kafkajs from './exports.js';
export default kafkajs;
