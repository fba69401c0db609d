import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SCRAM_ITERATIONS, attributes, hmac, scramKeys, toSaslName, type ScramHash } from '../wire/scram.js';

/** The outcome of one client step: the message to send, or why the server cannot be trusted or the login failed. */
export type ScramClientStep = { ok: true; message: string } | { ok: false; why: string };

/**
 * The client side of one SCRAM-SHA-256/512 exchange (RFC 5802, RFC 7677), as Kafka's
 * `ScramSaslClient` runs it: client-first (user name, nonce) → server-first (the nonce extended,
 * salt, iterations) → client-final (proof) → server-final (signature), which is checked, so that
 * a server that does not hold the user's keys is not believed. No channel binding (GS2 header
 * `n,,`). The primitives are the server's (`src/wire/scram.ts`), so both sides derive alike.
 *
 * Concurrency: one exchange per login, stepped in order: {@link first}, {@link final}, {@link verify}.
 */
export class ScramClient {
  readonly #hash: ScramHash;
  readonly #username: string;
  readonly #password: string;
  readonly #nonce: string;
  #clientFirstBare = '';
  #authMessage = '';
  #serverKey: Buffer | undefined;

  /** `nonce`: for tests that replay a known exchange (RFC 7677's example); random otherwise. */
  constructor(hash: ScramHash, username: string, password: string, nonce = randomBytes(24).toString('base64')) {
    this.#hash = hash;
    this.#username = username;
    this.#password = password;
    this.#nonce = nonce;
  }

  /** The client-first message. */
  first(): string {
    this.#clientFirstBare = `n=${toSaslName(this.#username)},r=${this.#nonce}`;
    return `n,,${this.#clientFirstBare}`;
  }

  /** The client-final message, with the proof, for the server-first message. */
  async final(serverFirst: string): Promise<ScramClientStep> {
    let attrs: Map<string, string>;
    try {
      attrs = attributes(serverFirst);
    } catch (error) {
      return { ok: false, why: `the server's first message is malformed: ${(error as Error).message}` };
    }
    const error = attrs.get('e');
    if (error !== undefined) return { ok: false, why: error };
    const nonce = attrs.get('r') ?? '';
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    // The server must extend our nonce (else this answers someone else's exchange), and a count
    // below Kafka's minimum would let a fake server learn a cheaply crackable hash.
    if (!nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) return { ok: false, why: "the server's nonce does not extend the client's" };
    if (salt.length === 0) return { ok: false, why: 'the server sent no salt' };
    if (!Number.isInteger(iterations) || iterations < SCRAM_ITERATIONS) {
      return { ok: false, why: `the server asks for ${attrs.get('i') ?? 'no'} iterations (at least ${SCRAM_ITERATIONS} are required)` };
    }
    const keys = await scramKeys(this.#hash, this.#password, salt, iterations);
    // c=biws: base64 of the GS2 header "n,,".
    const withoutProof = `c=biws,r=${nonce}`;
    this.#authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(this.#hash, keys.storedKey, this.#authMessage);
    const proof = Buffer.alloc(keys.clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i]! ^ signature[i]!;
    this.#serverKey = keys.serverKey;
    return { ok: true, message: `${withoutProof},p=${proof.toString('base64')}` };
  }

  /** Checks the server-final message: the server's signature, or its error. */
  verify(serverFinal: string): ScramClientStep {
    let attrs: Map<string, string>;
    try {
      attrs = attributes(serverFinal);
    } catch (error) {
      return { ok: false, why: `the server's final message is malformed: ${(error as Error).message}` };
    }
    const error = attrs.get('e');
    if (error !== undefined) return { ok: false, why: error };
    if (this.#serverKey === undefined) return { ok: false, why: 'the exchange is not at its final step' };
    const expected = hmac(this.#hash, this.#serverKey, this.#authMessage);
    const got = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return { ok: false, why: "the server's signature does not match (it does not hold this user's credentials)" };
    }
    return { ok: true, message: '' };
  }
}

