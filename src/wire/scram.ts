import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** SCRAM's hash functions by Kafka's mechanism name. */
export type ScramHash = 'sha256' | 'sha512';

/** Kafka's default (and minimum) iteration count for SCRAM credentials. */
export const SCRAM_ITERATIONS = 4096;

/** What the server keeps of a user's password (RFC 5802 section 3): never the password itself. */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** The keys RFC 5802 derives from a password: the client proves it holds `clientKey`, the server proves it holds `serverKey`. */
export interface ScramKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/**
 * SaltedPassword (PBKDF2 over the password with the salt and iteration count) and the keys made
 * from it. The server derives them once per user; a client at each login, from the salt and
 * count the server sends.
 */
export async function scramKeys(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<ScramKeys> {
  const salted = await pbkdf2Async(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, digestSize(hash), hash);
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: createHash(hash).update(clientKey).digest(), serverKey: hmac(hash, salted, 'Server Key') };
}

/** Derives a user's SCRAM credential from the password (PBKDF2 with a random salt). */
export async function scramCredential(hash: ScramHash, password: string, iterations = SCRAM_ITERATIONS, salt = randomBytes(32)): Promise<ScramCredential> {
  const { storedKey, serverKey } = await scramKeys(hash, password, salt, iterations);
  return { salt, iterations, storedKey, serverKey };
}

const digestSize = (hash: ScramHash): number => (hash === 'sha256' ? 32 : 64);

/** HMAC(key, data), SCRAM's keyed hash (data as UTF-8). */
export const hmac = (hash: ScramHash, key: Buffer, data: string): Buffer => createHmac(hash, key).update(data, 'utf8').digest();

/** The outcome of one SCRAM step: the server's message, or why authentication failed. */
export type ScramStep = { ok: true; reply: string; done: boolean } | { ok: false; message: string };

/**
 * The server side of one SCRAM-SHA-256/512 exchange (RFC 5802, RFC 7677), as Kafka runs it:
 * client-first → server-first (nonce, salt, iterations) → client-final (proof) → server-final
 * (signature). No channel binding (`n` or `y` GS2 flags only). An unknown user gets a made-up
 * salt and fails at the proof, like a wrong password, so that user names cannot be probed.
 *
 * Concurrency: one exchange per connection, stepped in order.
 */
export class ScramExchange {
  readonly #hash: ScramHash;
  readonly #lookup: (user: string) => ScramCredential | undefined;
  readonly #fakeKey: Buffer;
  readonly #serverNonce: () => string;
  #step = 0;
  #user = '';
  #credential: ScramCredential | undefined;
  #gs2Header = '';
  #clientFirstBare = '';
  #serverFirst = '';
  #nonce = '';

  constructor(hash: ScramHash, lookup: (user: string) => ScramCredential | undefined, fakeKey: Buffer, serverNonce = (): string => randomBytes(18).toString('base64')) {
    this.#hash = hash;
    this.#lookup = lookup;
    this.#fakeKey = fakeKey;
    this.#serverNonce = serverNonce;
  }

  /** The user name given in the client-first message. */
  get user(): string {
    return this.#user;
  }

  step(message: string): ScramStep {
    try {
      return this.#step++ === 0 ? this.#first(message) : this.#final(message);
    } catch (error) {
      return { ok: false, message: `Authentication failed: ${(error as Error).message}` };
    }
  }

  #first(message: string): ScramStep {
    // gs2-header: a channel-binding flag, an optional authzid, then the client-first-bare message.
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message);
    if (m === null) throw new Error('malformed client-first message');
    if (m[1]!.startsWith('p=')) throw new Error('channel binding is not supported');
    this.#gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.#clientFirstBare = m[3]!;
    const attrs = attributes(this.#clientFirstBare);
    if (attrs.has('m')) throw new Error('mandatory extensions are not supported');
    const user = saslName(attrs.get('n'));
    const authzid = m[2] === undefined ? '' : saslName(m[2].slice(2));
    if (authzid !== '' && authzid !== user) throw new Error('an authorization id different from the user name is not allowed');
    const clientNonce = attrs.get('r');
    if (clientNonce === undefined || clientNonce.length === 0) throw new Error('client-first message has no nonce');
    this.#user = user;
    this.#credential = this.#lookup(user);
    const salt = this.#credential?.salt ?? createHmac('sha256', this.#fakeKey).update(user).digest();
    const iterations = this.#credential?.iterations ?? SCRAM_ITERATIONS;
    this.#nonce = clientNonce + this.#serverNonce();
    this.#serverFirst = `r=${this.#nonce},s=${salt.toString('base64')},i=${iterations}`;
    return { ok: true, reply: this.#serverFirst, done: false };
  }

  #final(message: string): ScramStep {
    if (this.#step > 2) throw new Error('the exchange is over');
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new Error('client-final message has no proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(message);
    if (attrs.get('c') !== Buffer.from(this.#gs2Header, 'utf8').toString('base64')) throw new Error('channel binding does not match');
    // Kafka's ScramSaslServer checks that the nonce ends with the server-first one (librdkafka 2.0
    // sends its own nonce in front of it again); so does this.
    if (!(attrs.get('r') ?? '').endsWith(this.#nonce)) throw new Error('nonce does not match');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const credential = this.#credential;
    const invalid = { ok: false as const, message: 'Authentication failed: Invalid user credentials' };
    if (credential === undefined || proof.length !== credential.storedKey.length) return invalid;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.#hash, credential.storedKey, authMessage);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(createHash(this.#hash).update(clientKey).digest(), credential.storedKey)) return invalid;
    const serverSignature = hmac(this.#hash, credential.serverKey, authMessage);
    return { ok: true, reply: `v=${serverSignature.toString('base64')}`, done: true };
  }
}

/** `k=v` attributes of a SCRAM message, by their one-letter name (values may hold `=`); malformed ones throw. */
export function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (!/^[a-zA-Z]=/.test(part)) throw new Error(`malformed attribute ${JSON.stringify(part.slice(0, 40))}`);
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** A user name as a SCRAM `saslname`, the inverse of {@link saslName}. */
export function toSaslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** A SCRAM `saslname`: `=2C` stands for `,` and `=3D` for `=`; any other `=` is malformed. */
function saslName(value: string | undefined): string {
  if (value === undefined || value.length === 0) throw new Error('no user name');
  if (/=(?!2C|3D)/.test(value)) throw new Error('malformed user name');
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}
