/**
 * librdkafka's mock Kafka cluster (Debian's librdkafka-dev 2.0.2) as a second, independent Kafka
 * server for the remote client's tests, beside `kafkalite serve`. mock-cluster.c hosts it in a
 * child process; this module builds that program once per process (cached on disk by the hash of
 * its source and of the installed mock header), starts it and drives it over stdin. What the mock
 * serves (APIs, versions, quirks) is listed at the top of mock-cluster.c.
 *
 * The build needs a C compiler (`cc`) and librdkafka-dev. When either is missing,
 * startMockCluster() rejects saying what to install, so a test that needs the cluster fails rather
 * than passing by being skipped; `.ci/run` installs both.
 */
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./mock-cluster.c', import.meta.url));
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/kafkalite-mock-cluster/', import.meta.url));
const MOCK_HEADER = '/usr/include/librdkafka/rdkafka_mock.h';
const INSTALL_LIBRDKAFKA = 'librdkafka-dev not installed: apt-get install librdkafka-dev';
/** Long enough for a cold build on a busy two-core machine; only a hung child ever reaches it. */
const START_TIMEOUT_MS = 30_000;

export interface MockClusterOptions {
  /**
   * Brokers in the cluster; their ids are 1 to `brokers`.
   * @default 3
   */
  brokers?: number;
}

export type CoordinatorType = 'group' | 'transaction';

let unavailable: { reason: string | undefined } | undefined;

/**
 * Why the mock cluster cannot run on this machine (no C compiler, no librdkafka-dev), or
 * undefined when it can. Asks the compiler itself whether the headers are there, so a header
 * installed outside /usr/include counts too. Checked once per process.
 */
export function mockClusterUnavailable(): string | undefined {
  if (unavailable !== undefined) return unavailable.reason;
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  let reason: string | undefined;
  if (cc.error !== undefined || cc.status !== 0) reason = 'no C compiler: `cc` not found (apt-get install gcc)';
  else {
    const probe = spawnSync('cc', ['-E', '-x', 'c', '-o', '/dev/null', '-'], {
      input: '#include <librdkafka/rdkafka.h>\n#include <librdkafka/rdkafka_mock.h>\n',
      encoding: 'utf8',
    });
    if (probe.status !== 0) reason = INSTALL_LIBRDKAFKA;
  }
  unavailable = { reason };
  return reason;
}

let built: Promise<string> | undefined;

/** The path of the built program, building it at most once per process. */
function buildOnce(): Promise<string> {
  built ??= build();
  // A failed build is retried by the next caller instead of being remembered.
  built.catch(() => (built = undefined));
  return built;
}

async function build(): Promise<string> {
  const reason = mockClusterUnavailable();
  if (reason !== undefined) throw new Error(`the librdkafka mock cluster cannot be built: ${reason}`);
  const hash = createHash('sha256').update(await readFile(SOURCE));
  // The mock API is experimental and changes between librdkafka releases: a new header, a new build.
  hash.update(readOptional(MOCK_HEADER));
  const binary = `${CACHE_DIR}mock-cluster-${hash.digest('hex').slice(0, 16)}`;
  if (await exists(binary)) return binary;
  await mkdir(CACHE_DIR, { recursive: true });
  // Built under a name of its own, then renamed: test files in other processes may build at once.
  const partial = `${binary}.${process.pid}.partial`;
  await new Promise<void>((resolve, reject) => {
    execFile('cc', ['-O1', '-o', partial, SOURCE, '-lrdkafka'], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else {
        const hint = /rdkafka/.test(stderr) ? ` (${INSTALL_LIBRDKAFKA})` : '';
        reject(new Error(`building ${SOURCE} failed${hint}:\n${stderr}`, { cause: error }));
      }
    });
  });
  await rename(partial, binary);
  return binary;
}

function readOptional(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Builds (once) and starts a mock cluster; resolves when its brokers are listening. */
export async function startMockCluster(options: MockClusterOptions = {}): Promise<MockCluster> {
  const brokers = options.brokers ?? 3;
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`brokers must be a positive integer (got ${brokers})`);
  const binary = await buildOnce();
  // stdin is a pipe: if this process dies without close(), the child reads EOF and exits too.
  const cluster = new MockClusterProcess(spawn(binary, [String(brokers)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  await cluster.started;
  return cluster;
}

/**
 * One running mock cluster. Every method but close() resolves when the mock answers `ok` and
 * rejects with its `error <text>` otherwise.
 *
 * Concurrency: commands are serialised — each waits for the answer to the one before it, so
 * callers may fire them without awaiting and still get each answer back on its own promise.
 * close() is idempotent; commands after it reject.
 */
export interface MockCluster {
  /** The bootstrap list as the mock prints it: `127.0.0.1:port` per broker, comma-separated. */
  readonly bootstrap: string;
  /** Creates a topic (the mock serves no CreateTopics); replication defaults to 3. */
  createTopic(name: string, partitions: number, replication?: number): Promise<void>;
  /** Moves a partition's leadership; brokerId -1 leaves it leaderless. */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** Names the follower that Fetch v11 clients are told to read from (preferred read replica). */
  setFollower(topic: string, partition: number, brokerId: number): Promise<void>;
  /** Closes the broker's connections and refuses new ones; leadership does not move. */
  brokerDown(brokerId: number): Promise<void>;
  brokerUp(brokerId: number): Promise<void>;
  /** Pins the coordinator of a group id or transactional id to a broker (any id, even unknown). */
  setCoordinator(type: CoordinatorType, key: string, brokerId: number): Promise<void>;
  /**
   * Makes the next `errorCodes.length` requests of `apiKey`, on any broker, fail with these codes
   * in order. Code -195 (librdkafka's local transport error) makes the broker drop the connection.
   */
  pushErrors(apiKey: number, errorCodes: readonly number[]): Promise<void>;
  /** Sends one raw command line and resolves with the mock's answer line (`ok` or `error <text>`). */
  command(line: string): Promise<string>;
  /** Ends the child (EOF on its stdin: it destroys the cluster and exits 0). Idempotent. */
  close(): Promise<void>;
}

class MockClusterProcess implements MockCluster {
  /** Resolves when the bootstrap list has been read; rejects if the child dies or hangs first. */
  readonly started: Promise<void>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<void>;
  #bootstrap = '';
  /** The one command waiting for its answer line, if any. */
  #answer: ((line: string) => void) | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #stderr = '';
  #gone: Error | undefined;
  #closed = false;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Only the tail matters for an error message; the mock can log a lot when a test is noisy.
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout });
    let onFirst: ((line: string) => void) | undefined;
    lines.on('line', (line) => {
      if (onFirst !== undefined) return onFirst(line);
      const answer = this.#answer;
      this.#answer = undefined;
      answer?.(line);
    });
    this.#exited = new Promise((resolve) => {
      const gone = (why: string): void => {
        this.#gone ??= new Error(`the mock cluster ${why}${this.#stderr === '' ? '' : `:\n${this.#stderr}`}`);
        const answer = this.#answer;
        this.#answer = undefined;
        answer?.('');
        resolve();
      };
      child.once('error', (error) => gone(`could not be started (${error.message})`));
      // 'close', not 'exit': by then stderr has been read to its end, for the message.
      child.once('close', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    });
    this.started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the mock cluster printed no bootstrap list within ${START_TIMEOUT_MS} ms:\n${this.#stderr}`));
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      onFirst = (line) => {
        onFirst = undefined;
        clearTimeout(timer);
        this.#bootstrap = line;
        resolve();
      };
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(this.#gone);
      });
    });
  }

  get bootstrap(): string {
    return this.#bootstrap;
  }

  createTopic(name: string, partitions: number, replication = 3): Promise<void> {
    return this.#ok('topic', name, partitions, replication);
  }

  setLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    return this.#ok('leader', topic, partition, brokerId);
  }

  setFollower(topic: string, partition: number, brokerId: number): Promise<void> {
    return this.#ok('follower', topic, partition, brokerId);
  }

  brokerDown(brokerId: number): Promise<void> {
    return this.#ok('down', brokerId);
  }

  brokerUp(brokerId: number): Promise<void> {
    return this.#ok('up', brokerId);
  }

  setCoordinator(type: CoordinatorType, key: string, brokerId: number): Promise<void> {
    return this.#ok('coordinator', type, key, brokerId);
  }

  pushErrors(apiKey: number, errorCodes: readonly number[]): Promise<void> {
    if (errorCodes.length === 0) return Promise.reject(new Error('pushErrors needs at least one error code'));
    return this.#ok('error', apiKey, errorCodes.length, ...errorCodes);
  }

  command(line: string): Promise<string> {
    if (/[\r\n]/.test(line)) return Promise.reject(new Error(`a command is one line (got ${JSON.stringify(line)})`));
    const next = this.#tail.then(() => this.#exchange(line));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#child.stdin.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
  }

  async #ok(...words: (string | number)[]): Promise<void> {
    for (const w of words) {
      if (typeof w === 'number' ? !Number.isInteger(w) : !/^\S+$/.test(w)) {
        throw new Error(`mock cluster command ${words[0]}: ${JSON.stringify(w)} is not a ${typeof w === 'number' ? 'integer' : 'single word'}`);
      }
    }
    const line = words.join(' ');
    const answer = await this.command(line);
    if (answer !== 'ok') throw new Error(`mock cluster refused "${line}": ${answer.replace(/^error /, '')}`);
  }

  #exchange(line: string): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('the mock cluster is closed'));
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => {
      this.#answer = (answer) => (this.#gone === undefined ? resolve(answer) : reject(this.#gone));
      this.#child.stdin.write(`${line}\n`);
    });
  }
}
