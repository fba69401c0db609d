/**
 * Consumer-group partition assignors, as pure functions of the group's membership.
 *
 * Every assignor here:
 * - assigns every partition of every topic that appears in `partitionCounts` and that at least one
 *   member subscribes to, to exactly one member subscribed to that topic; topics missing from
 *   `partitionCounts` (or with 0 partitions) are skipped;
 * - returns an entry for every member, `[]` for members subscribed to nothing assignable or left
 *   over when there are fewer partitions than members; each list is sorted by topic, then partition;
 * - is deterministic: members are ranked by `memberId` (UTF-16 code unit order, as Java's
 *   `String.compareTo`), so the order of `members`, of a member's `topics` and of its `owned`
 *   does not matter;
 * - does not mutate its input, and returns fresh `TopicPartition` objects;
 * - throws `INVALID_ARGUMENT` on two members with the same `memberId`, or on a partition count that
 *   is not a non-negative integer.
 *
 * `range` (Kafka's `RangeAssignor`): topic by topic, the topic's subscribers sorted by memberId
 * each get a consecutive run of `P / M` partitions, and the first `P % M` of them one more. Balanced
 * per topic (counts differ by at most 1 within a topic), but the extras pile up on the
 * lowest-sorted members across topics.
 *
 * `roundrobin` (Kafka's `RoundRobinAssignor`): all partitions sorted by (topic, partition) are dealt
 * around the members sorted by memberId in a circle; each partition goes to the next member in the
 * circle that subscribes to its topic. When all members subscribe to the same topics, counts differ
 * by at most 1.
 *
 * `cooperative-sticky` (after Kafka's `CooperativeStickyAssignor`): balanced first, then sticky.
 * 1. A member's claim on a partition in `owned` is valid if it subscribes to the topic, the
 *    partition exists, and no member earlier in memberId order claims it too (the first keeps it).
 * 2. Homogeneous group (every member with an assignable subscription subscribes to the same
 *    assignable topics): with N partitions over M such members, every count is `floor(N/M)` or
 *    `ceil(N/M)`. Each member keeps its valid claims up to its quota (`ceil` for as many members as
 *    there are `N % M` extra slots, taken in memberId order by members owning more than `floor`;
 *    `floor` otherwise); it keeps its lowest (topic, partition) claims, and only the surplus is
 *    released. The number of partitions taken from their valid owner is therefore the minimum any
 *    balanced assignment needs: `sum(max(0, owned_i - floor)) - min(N % M, #{i: owned_i > floor})`.
 *    A member under its quota keeps all its claims and loses nothing.
 * 3. Heterogeneous group: every member keeps all its valid claims at first.
 * 4. Unheld partitions go, one at a time, to the least-loaded member subscribed to their topic
 *    (ties by memberId); topics with fewer subscribers first, since they have fewer choices.
 * 5. Heterogeneous group only: while some member A could hand load to a member B with at least 2
 *    fewer partitions, along a chain A -> X1 -> ... -> B where each hands one partition of a topic
 *    the next subscribes to, the shortest such chain is applied (a direct move when there is one).
 *    Partitions a member did not own before the rebalance are handed on in preference to ones it did.
 *    When no such chain is left the counts are optimally balanced: no valid assignment has a lower
 *    maximum count, or a lower sum of squared counts (Harvey, Ladner, Lovász & Tamir, "Semi-matchings
 *    for bipartite graphs and scheduling": no cost-reducing path means optimal for every such
 *    measure). In particular no single partition can be moved to a subscriber with 2 or more fewer
 *    partitions. Stickiness here is best effort: members keep their claims except what balancing
 *    takes, but the number moved is not guaranteed minimal.
 * In both cases, feeding an assignment back as `owned` with the same members and topics returns
 * it unchanged.
 */
import { invalidArgument, show } from '../errors.js';
import type { TopicPartition } from '../types.js';

export interface AssignorMember {
  memberId: string;
  /** Topics this member subscribes to. */
  topics: string[];
  /** Partitions the member holds now (from the previous generation); used by sticky assignors. */
  owned: TopicPartition[];
}

export interface AssignorInput {
  members: AssignorMember[];
  /** Partition count of every topic some member subscribes to (topics missing here are skipped). */
  partitionCounts: ReadonlyMap<string, number>;
}

/** memberId -> its partitions, sorted by topic then partition. Every member of the input has an entry (possibly []). */
export type Assignment = Map<string, TopicPartition[]>;

export type Assignor = (input: AssignorInput) => Assignment;

/** Java's `String.compareTo` order, which is not `localeCompare`'s. */
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The input reduced to indices: members sorted by memberId, assignable topics sorted by name, and
 * every partition numbered globally so that numeric order is (topic, partition) order.
 */
interface Model {
  members: readonly AssignorMember[];
  /** Per member: indices of the assignable topics it subscribes to, ascending. */
  subs: number[][];
  topics: string[];
  counts: number[];
  /** Global number of each topic's partition 0. */
  base: number[];
  total: number;
  topicOf: Int32Array;
  /** Per topic: indices of its subscribers, ascending (so in memberId order). */
  subscribers: number[][];
  topicIndex: Map<string, number>;
}

function buildModel(input: AssignorInput): Model {
  const members = [...input.members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  for (let i = 1; i < members.length; i++) {
    if (members[i - 1]!.memberId === members[i]!.memberId) {
      throw invalidArgument(`two group members have memberId ${show(members[i]!.memberId)}`);
    }
  }
  const names = new Set<string>();
  for (const m of members) {
    for (const t of m.topics) {
      const n = input.partitionCounts.get(t);
      if (n === undefined) continue;
      if (!Number.isSafeInteger(n) || n < 0) {
        throw invalidArgument(`partition count of topic ${show(t)} must be a non-negative integer (got ${show(n)})`, {
          topic: t,
        });
      }
      if (n > 0) names.add(t);
    }
  }
  const topics = [...names].sort(compareStrings);
  const topicIndex = new Map(topics.map((t, i) => [t, i]));
  const counts = topics.map((t) => input.partitionCounts.get(t)!);
  const base: number[] = [];
  let total = 0;
  for (const n of counts) {
    base.push(total);
    total += n;
  }
  const topicOf = new Int32Array(total);
  for (let t = 0; t < topics.length; t++) topicOf.fill(t, base[t]!, base[t]! + counts[t]!);
  const subscribers: number[][] = topics.map(() => []);
  const subs = members.map((m, i) => {
    const own = new Set<number>();
    for (const name of m.topics) {
      const t = topicIndex.get(name);
      if (t !== undefined) own.add(t);
    }
    const sorted = [...own].sort((a, b) => a - b);
    for (const t of sorted) subscribers[t]!.push(i);
    return sorted;
  });
  return { members, subs, topics, counts, base, total, topicOf, subscribers, topicIndex };
}

function toAssignment(model: Model, held: readonly number[][]): Assignment {
  const out: Assignment = new Map();
  model.members.forEach((m, i) => {
    const gs = [...held[i]!].sort((a, b) => a - b);
    out.set(
      m.memberId,
      gs.map((g) => {
        const t = model.topicOf[g]!;
        return { topic: model.topics[t]!, partition: g - model.base[t]! };
      }),
    );
  });
  return out;
}

export const rangeAssignor: Assignor = (input) => {
  const model = buildModel(input);
  const held: number[][] = model.members.map(() => []);
  model.topics.forEach((_, t) => {
    const subs = model.subscribers[t]!;
    if (subs.length === 0) return;
    const count = model.counts[t]!;
    const per = Math.floor(count / subs.length);
    const extra = count % subs.length;
    let next = model.base[t]!;
    subs.forEach((m, rank) => {
      const n = per + (rank < extra ? 1 : 0);
      for (let k = 0; k < n; k++) held[m]!.push(next++);
    });
  });
  return toAssignment(model, held);
};

/** Index of the first element of ascending `xs` that is >= `x`, or `xs.length`. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const roundRobinAssignor: Assignor = (input) => {
  const model = buildModel(input);
  const held: number[][] = model.members.map(() => []);
  // The circle's cursor is a member index; rather than stepping past non-subscribers one by one,
  // jump to the next subscriber of the topic with a binary search in its (sorted) subscriber list.
  let cursor = 0;
  for (let g = 0; g < model.total; g++) {
    const subs = model.subscribers[model.topicOf[g]!]!;
    const at = lowerBound(subs, cursor);
    const m = at < subs.length ? subs[at]! : subs[0]!;
    held[m]!.push(g);
    cursor = (m + 1) % model.members.length;
  }
  return toAssignment(model, held);
};

/** Min-heap of non-negative integers. */
class MinHeap {
  readonly #xs: number[] = [];

  get size(): number {
    return this.#xs.length;
  }

  push(x: number): void {
    const xs = this.#xs;
    let i = xs.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (xs[parent]! <= x) break;
      xs[i] = xs[parent]!;
      i = parent;
    }
    xs[i] = x;
  }

  pop(): number | undefined {
    const xs = this.#xs;
    const top = xs[0];
    const last = xs.pop();
    if (top === undefined || last === undefined || xs.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= xs.length) break;
      const r = l + 1;
      const c = r < xs.length && xs[r]! < xs[l]! ? r : l;
      if (xs[c]! >= last) break;
      xs[i] = xs[c]!;
      i = c;
    }
    xs[i] = last;
    return top;
  }
}

/** Mutable state of a cooperative-sticky run: who holds what, by member and topic. */
class Holdings {
  readonly #topicOf: Int32Array;
  readonly owner: Int32Array;
  readonly count: number[];
  /** Per member: topic -> the global partition numbers it holds of that topic. */
  readonly byTopic: Map<number, Set<number>>[];

  constructor(model: Model, memberCount: number) {
    this.#topicOf = model.topicOf;
    this.owner = new Int32Array(model.total).fill(-1);
    this.count = new Array<number>(memberCount).fill(0);
    this.byTopic = Array.from({ length: memberCount }, () => new Map<number, Set<number>>());
  }

  give(g: number, m: number): void {
    const t = this.#topicOf[g]!;
    const map = this.byTopic[m]!;
    let set = map.get(t);
    if (set === undefined) map.set(t, (set = new Set()));
    set.add(g);
    this.owner[g] = m;
    this.count[m]!++;
  }

  take(g: number): void {
    const m = this.owner[g]!;
    this.byTopic[m]!.get(this.#topicOf[g]!)!.delete(g);
    this.owner[g] = -1;
    this.count[m]!--;
  }

  holdsOf(m: number, t: number): number {
    return this.byTopic[m]!.get(t)?.size ?? 0;
  }
}

/** Valid claims per member (global numbers, ascending): subscribed, existing, first claimant only. */
function validClaims(model: Model): number[][] {
  const claimed = new Uint8Array(model.total);
  return model.members.map((m, i) => {
    const subscribed = new Set(model.subs[i]);
    const mine: number[] = [];
    for (const tp of m.owned) {
      const t = model.topicIndex.get(tp.topic);
      if (t === undefined || !subscribed.has(t)) continue;
      const p = tp.partition;
      if (!Number.isInteger(p) || p < 0 || p >= model.counts[t]!) continue;
      const g = model.base[t]! + p;
      // A duplicate in one member's own list is harmless: it is already this member's.
      if (claimed[g] === 1) continue;
      claimed[g] = 1;
      mine.push(g);
    }
    return mine.sort((a, b) => a - b);
  });
}

function isHomogeneous(model: Model): boolean {
  let first: number[] | undefined;
  for (const s of model.subs) {
    if (s.length === 0) continue;
    if (first === undefined) first = s;
    else if (s.length !== first.length || s.some((t, k) => t !== first![k])) return false;
  }
  return true;
}

export const cooperativeStickyAssignor: Assignor = (input) => {
  const model = buildModel(input);
  const memberCount = model.members.length;
  const claims = validClaims(model);
  const h = new Holdings(model, memberCount);
  const eligible = model.subs.flatMap((s, i) => (s.length > 0 ? [i] : []));

  if (isHomogeneous(model) && eligible.length > 0) {
    const floor = Math.floor(model.total / eligible.length);
    let extraSlots = model.total % eligible.length;
    for (const m of eligible) {
      const mine = claims[m]!;
      let keep = mine.length;
      if (keep > floor) {
        // Any member owning more than floor saves one move by taking an extra slot, so which of
        // them get the slots does not change the number moved; memberId order keeps it determined.
        if (extraSlots > 0) {
          extraSlots--;
          keep = floor + 1;
        } else {
          keep = floor;
        }
      }
      for (let k = 0; k < keep; k++) h.give(mine[k]!, m);
    }
  } else {
    claims.forEach((mine, m) => {
      for (const g of mine) h.give(g, m);
    });
  }

  // Least-loaded-first filling respects the homogeneous quotas by itself: a member only gets a
  // partition while no one has fewer, so no one passes ceil(N/M) and no one stays under floor(N/M).
  const topicOrder = model.topics
    .map((_, t) => t)
    .sort((a, b) => model.subscribers[a]!.length - model.subscribers[b]!.length || a - b);
  for (const t of topicOrder) {
    const subs = model.subscribers[t]!;
    const heap = new MinHeap();
    // Key (count, member index) packed into one number; member index order is memberId order.
    for (const m of subs) heap.push(h.count[m]! * memberCount + m);
    const end = model.base[t]! + model.counts[t]!;
    for (let g = model.base[t]!; g < end; g++) {
      if (h.owner[g] !== -1) continue;
      const m = heap.pop()! % memberCount;
      h.give(g, m);
      heap.push(h.count[m]! * memberCount + m);
    }
  }

  balanceByChains(model, h, claims, eligible);

  return toAssignment(
    model,
    h.byTopic.map((map) => [...map.values()].flatMap((set) => [...set])),
  );
};

/**
 * Applies cost-reducing chains until none is left (see the file comment, step 5). Each one lowers
 * the sum of squared counts by at least 2, so this ends. A no-op for homogeneous groups, which
 * are already within 1 here.
 */
function balanceByChains(model: Model, h: Holdings, claims: readonly number[][], eligible: readonly number[]): void {
  if (eligible.length < 2) return;
  const memberCount = model.members.length;
  const owned = claims.map((mine) => new Set(mine));
  const minCount = (): number => Math.min(...eligible.map((m) => h.count[m]!));
  if (Math.max(...eligible.map((m) => h.count[m]!)) - minCount() < 2) return;

  const parent = new Int32Array(memberCount);
  const via = new Int32Array(memberCount);

  /**
   * Breadth-first search for the shortest chain from `s` to a member with <= count(s) - 2, the
   * least loaded in the first layer that has any; one at `lowest`, the group minimum, ends the search.
   */
  const augment = (s: number, lowest: number): boolean => {
    const limit = h.count[s]! - 2;
    parent.fill(-2);
    parent[s] = -1;
    let frontier = [s];
    while (frontier.length > 0) {
      const next: number[] = [];
      let best = -1;
      for (const x of frontier) {
        for (const t of model.subs[x]!) {
          if (h.holdsOf(x, t) === 0) continue;
          for (const y of model.subscribers[t]!) {
            if (parent[y] !== -2) continue;
            parent[y] = x;
            via[y] = t;
            next.push(y);
            const c = h.count[y]!;
            if (c <= limit && (best === -1 || c < h.count[best]! || (c === h.count[best]! && y < best))) best = y;
          }
          if (best !== -1 && h.count[best] === lowest) break;
        }
        if (best !== -1 && h.count[best] === lowest) break;
      }
      if (best !== -1) {
        for (let y = best; y !== s; y = parent[y]!) move(parent[y]!, y, via[y]!);
        return true;
      }
      frontier = next;
    }
    return false;
  };

  const move = (from: number, to: number, t: number): void => {
    let pick = -1;
    let pickOwned = true;
    for (const g of h.byTopic[from]!.get(t)!) {
      const wasOwned = owned[from]!.has(g);
      // Prefer handing on what `from` did not own before this rebalance: that costs no extra move.
      if (pick === -1 || (pickOwned && !wasOwned) || (pickOwned === wasOwned && g > pick)) {
        pick = g;
        pickOwned = wasOwned;
      }
    }
    h.take(pick);
    h.give(pick, to);
  };

  for (let progress = true; progress; ) {
    progress = false;
    const order = [...eligible].sort((a, b) => h.count[b]! - h.count[a]! || a - b);
    let min = minCount();
    for (const s of order) {
      while (h.count[s]! - min >= 2 && augment(s, min)) {
        progress = true;
        min = minCount();
      }
    }
  }
}

/** By name: 'range' | 'roundrobin' | 'cooperative-sticky'. */
export const assignors: {
  readonly range: Assignor;
  readonly roundrobin: Assignor;
  readonly 'cooperative-sticky': Assignor;
} = Object.freeze({
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
});
