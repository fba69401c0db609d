import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SaslMechanism } from './listen-options.js';
import { ScramExchange, scramCredential, type ScramCredential, type ScramHash } from './scram.js';

/** Kafka's names of the mechanisms (SaslHandshake). */
const KAFKA_NAMES: Record<SaslMechanism, string> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };

/**
 * A listener's users, ready for its connections: passwords as bytes for PLAIN, or SCRAM
 * credentials (salted, iterated) derived once at `listen`.
 *
 * Concurrency: immutable once made; shared by every connection of the listener.
 */
export class SaslUsers {
  readonly mechanism: SaslMechanism;
  readonly kafkaName: string;
  readonly #plain = new Map<string, Buffer>();
  readonly #scram = new Map<string, ScramCredential>();
  /** Salts made-up salts for unknown SCRAM users, so they look like real ones. */
  readonly fakeKey = randomBytes(32);

  private constructor(mechanism: SaslMechanism) {
    this.mechanism = mechanism;
    this.kafkaName = KAFKA_NAMES[mechanism];
  }

  static async of(mechanism: SaslMechanism, users: ReadonlyMap<string, string>): Promise<SaslUsers> {
    const out = new SaslUsers(mechanism);
    for (const [name, password] of users) {
      if (mechanism === 'plain') out.#plain.set(name, Buffer.from(password, 'utf8'));
      else out.#scram.set(name, await scramCredential(scramHash(mechanism), password));
    }
    return out;
  }

  /** Whether `password` is `user`'s (in time independent of where they differ). */
  checkPlain(user: string, password: Buffer): boolean {
    const expected = this.#plain.get(user);
    if (expected === undefined || expected.length !== password.length) return false;
    return timingSafeEqual(expected, password);
  }

  scram(user: string): ScramCredential | undefined {
    return this.#scram.get(user);
  }
}

const scramHash = (mechanism: SaslMechanism): ScramHash => (mechanism === 'scram-sha-512' ? 'sha512' : 'sha256');

/** One authentication step's outcome: bytes for the client, or why it failed. */
export type SaslStep = { ok: true; reply: Uint8Array } | { ok: false; message: string };

/**
 * One connection's SASL state, as Kafka's `SaslServerAuthenticator` keeps it: a SaslHandshake
 * naming the listener's mechanism, then tokens — in SaslAuthenticate requests after a v1
 * handshake, or as bare size-prefixed frames after a v0 one (the form old clients use) — until
 * the mechanism is done. Until then the connection serves nothing but ApiVersions and these two.
 *
 * Concurrency: one per connection; its requests are handled one at a time, in order.
 */
export class SaslAuthenticator {
  readonly #users: SaslUsers;
  #state: 'handshake' | 'authenticate' | 'done' = 'handshake';
  #raw = false;
  #scram: ScramExchange | undefined;
  #user: string | undefined;

  constructor(users: SaslUsers) {
    this.#users = users;
  }

  get authenticated(): boolean {
    return this.#state === 'done';
  }

  /** The user who logged in (once authenticated). */
  get user(): string | undefined {
    return this.#user;
  }

  /** After a v0 handshake, the next frames are bare tokens, not Kafka requests. */
  get expectsRawToken(): boolean {
    return this.#raw && this.#state === 'authenticate';
  }

  /** Whether a SaslAuthenticate request is expected now. */
  get expectsAuthenticate(): boolean {
    return !this.#raw && this.#state === 'authenticate';
  }

  /** The mechanisms the listener offers, by Kafka's names. */
  get mechanisms(): string[] {
    return [this.#users.kafkaName];
  }

  /** SaslHandshake: true when `mechanism` is the listener's (case as Kafka spells it). */
  handshake(mechanism: string, version: number): 'ok' | 'unsupported' | 'illegal' {
    if (this.#state !== 'handshake') return 'illegal';
    if (mechanism !== this.#users.kafkaName) return 'unsupported';
    this.#state = 'authenticate';
    this.#raw = version === 0;
    if (this.#users.mechanism !== 'plain') {
      this.#scram = new ScramExchange(scramHash(this.#users.mechanism), (u) => this.#users.scram(u), this.#users.fakeKey);
    }
    return 'ok';
  }

  /** One token of the exchange; `authenticated` turns true with the last one. */
  step(token: Uint8Array): SaslStep {
    if (this.#state !== 'authenticate') return { ok: false, message: 'no SASL exchange is in progress' };
    const scram = this.#scram;
    if (scram === undefined) return this.#plain(Buffer.from(token.buffer, token.byteOffset, token.length));
    const result = scram.step(Buffer.from(token.buffer, token.byteOffset, token.length).toString('utf8'));
    if (!result.ok) return result;
    if (result.done) {
      this.#state = 'done';
      this.#user = scram.user;
    }
    return { ok: true, reply: Buffer.from(result.reply, 'utf8') };
  }

  /** RFC 4616: `authzid NUL authcid NUL passwd`. */
  #plain(token: Buffer): SaslStep {
    const first = token.indexOf(0);
    const second = first < 0 ? -1 : token.indexOf(0, first + 1);
    if (second < 0) return { ok: false, message: 'Authentication failed: malformed PLAIN token' };
    const authzid = token.toString('utf8', 0, first);
    const user = token.toString('utf8', first + 1, second);
    if (authzid !== '' && authzid !== user) {
      return { ok: false, message: 'Authentication failed: Client requested an authorization id that is different from username' };
    }
    if (!this.#users.checkPlain(user, token.subarray(second + 1))) {
      return { ok: false, message: 'Authentication failed: Invalid username or password' };
    }
    this.#state = 'done';
    this.#user = user;
    return { ok: true, reply: new Uint8Array(0) };
  }
}
