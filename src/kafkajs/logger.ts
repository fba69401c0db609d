/**
 * KafkaJS' logger: levels, namespaces, a `logCreator` hook, the `KAFKAJS_LOG_LEVEL` environment
 * override, and by default one JSON line per entry on the console, as KafkaJS prints them.
 */

import { logLevel, type logLevel as LogLevel } from './constants.js';
import type { LogEntry, Logger, logCreator } from './types.js';

const labels: [string, LogLevel][] = [
  ['ERROR', logLevel.ERROR],
  ['WARN', logLevel.WARN],
  ['INFO', logLevel.INFO],
  ['DEBUG', logLevel.DEBUG],
];

/** `KAFKAJS_LOG_LEVEL` (e.g. `nothing`, `error`) wins over the configured level, as in KafkaJS. */
function effectiveLevel(level: LogLevel): LogLevel {
  const fromEnv = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase();
  return fromEnv in logLevel ? logLevel[fromEnv as keyof typeof logLevel] : level;
}

/** The default `logCreator`: a JSON line on the console, `[namespace]` before the message. */
export const consoleLogCreator: logCreator = () => (entry: LogEntry) => {
  const prefix = entry.namespace ? `[${entry.namespace}] ` : '';
  const line = JSON.stringify({ level: entry.label, ...entry.log, message: `${prefix}${entry.log.message}` });
  if (entry.level === logLevel.ERROR) console.error(line);
  else if (entry.level === logLevel.WARN) console.warn(line);
  else if (entry.level === logLevel.INFO) console.info(line);
  else console.log(line);
};

export function createLogger(options: { level?: LogLevel; logCreator?: logCreator } = {}): Logger {
  let rootLevel = effectiveLevel(options.level ?? logLevel.INFO);
  const write = (options.logCreator ?? consoleLogCreator)(rootLevel);

  const make = (namespace: string, ownLevel: LogLevel | undefined): Logger => {
    const current = (): LogLevel => ownLevel ?? rootLevel;
    const at =
      (label: string, level: LogLevel) =>
      (message: string, extra: object = {}): void => {
        if (level > current()) return;
        write({ namespace, level, label, log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra } });
      };
    const byLabel = Object.fromEntries(labels.map(([label, level]) => [label, at(label, level)]));
    return {
      error: byLabel.ERROR!,
      warn: byLabel.WARN!,
      info: byLabel.INFO!,
      debug: byLabel.DEBUG!,
      namespace: (child: string, level?: LogLevel) => make(child, level === undefined ? undefined : effectiveLevel(level)),
      setLogLevel: (level: LogLevel) => {
        rootLevel = level;
      },
    };
  };
  return make('', undefined);
}
