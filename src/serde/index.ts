/** The serdes kafkalite ships, as one namespace: `serde.avro({ registry, subject })`. */
import { avro } from './avro.js';

export const serde = { avro };
