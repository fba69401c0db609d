import { unsupported, type KafkaliteError } from '../errors.js';
import { ApiKey, apiCodec, type ApiVersionsResponseApiVersion } from '../wire/protocol/index.js';

/**
 * Versions this client must not send although its codecs have them: AddPartitionsToTxn v4 and
 * later are for brokers verifying transactions (KIP-890), clients stay at v3.
 */
const CLIENT_MAX: Partial<Record<number, number>> = { [ApiKey.AddPartitionsToTxn]: 3 };

/**
 * What one broker and this client both speak, from the broker's ApiVersions answer: per API the
 * broker's [min, max] and the version to use, `min(brokerMax, ourMax)` — the newest both know, as
 * Kafka's clients pick. "Ours" is the newest version Kafka marks stable in the generated codecs.
 *
 * Concurrency: immutable once made.
 */
export class ApiVersionTable {
  readonly #broker = new Map<number, { min: number; max: number }>();
  readonly #address: string;

  constructor(apiKeys: readonly ApiVersionsResponseApiVersion[], address: string) {
    for (const { apiKey, minVersion, maxVersion } of apiKeys) this.#broker.set(apiKey, { min: minVersion, max: maxVersion });
    this.#address = address;
  }

  /** The broker's [min, max] of an API, or undefined when it does not offer it. */
  brokerRange(apiKey: number): readonly [number, number] | undefined {
    const r = this.#broker.get(apiKey);
    return r === undefined ? undefined : [r.min, r.max];
  }

  /** The version to send `apiKey` in; `UNSUPPORTED` naming the API when there is none in common. */
  version(apiKey: ApiKey): number {
    const [lo, hi] = this.#common(apiKey);
    if (lo > hi) throw this.#unsupported(apiKey, 'no version in common');
    return hi;
  }

  /** `version` itself when both sides speak it; `UNSUPPORTED` otherwise (a caller pinning a version). */
  check(apiKey: ApiKey, version: number): number {
    const [lo, hi] = this.#common(apiKey);
    if (!Number.isInteger(version) || version < lo || version > hi) throw this.#unsupported(apiKey, `version ${version} is not in common`);
    return version;
  }

  /** [lo, hi] both sides speak; lo > hi when none. */
  #common(apiKey: ApiKey): [number, number] {
    const ours = apiCodec(apiKey);
    const theirs = this.#broker.get(apiKey);
    if (ours === undefined || theirs === undefined) return [1, 0];
    const ourMax = Math.min(ours.maxStableVersion, CLIENT_MAX[apiKey] ?? Infinity);
    return [Math.max(ours.minVersion, theirs.min), Math.min(ourMax, theirs.max)];
  }

  #unsupported(apiKey: ApiKey, why: string): KafkaliteError {
    const ours = apiCodec(apiKey);
    const name = ours?.name ?? `api key ${apiKey}`;
    const theirs = this.#broker.get(apiKey);
    const ourMax = ours === undefined ? undefined : Math.min(ours.maxStableVersion, CLIENT_MAX[apiKey] ?? Infinity);
    const broker = theirs === undefined ? 'does not offer it' : `speaks versions ${theirs.min}-${theirs.max}`;
    const client = ours === undefined ? 'kafkalite has no codec for it' : `kafkalite speaks ${ours.minVersion}-${ourMax}`;
    return unsupported(`${name} with the broker at ${this.#address}`, `${why}: the broker ${broker}, ${client}`);
  }
}
