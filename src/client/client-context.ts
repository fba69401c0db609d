import type { Clock } from '../clock.js';
import type { ProblemLog } from '../logger.js';

/**
 * What a client takes from the broker that opened it besides the {@link KafkaApi} seam: the
 * clock for its timestamps and timers, and where to report failures no caller can see. Kept
 * apart from the seam, which carries only requests and responses.
 */
export interface ClientContext {
  readonly clock: Clock;
  readonly log: ProblemLog;
}
