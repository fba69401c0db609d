import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignors,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignment,
  type Assignor,
  type AssignorInput,
  type AssignorMember,
} from '../../src/group/assignors.js';
import type { TopicPartition } from '../../src/types.js';

const FC = { seed: 11, numRuns: 300 };
const TOPICS = ['t0', 't1', 't2', 't3'];
const ALL: [string, Assignor][] = [
  ['range', rangeAssignor],
  ['roundrobin', roundRobinAssignor],
  ['cooperative-sticky', cooperativeStickyAssignor],
];

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;
const parse = (k: string): TopicPartition => {
  const at = k.lastIndexOf('-');
  return { topic: k.slice(0, at), partition: Number(k.slice(at + 1)) };
};

/** Members as `id -> [topics, owned keys]`, for readable worked examples. */
function input(
  members: Record<string, string[] | [string[], string[]]>,
  counts: Record<string, number>,
): AssignorInput {
  return {
    members: Object.entries(members).map(([memberId, spec]): AssignorMember => {
      const [topics, owned] = Array.isArray(spec[0]) ? (spec as [string[], string[]]) : [spec as string[], []];
      return { memberId, topics, owned: owned.map(parse) };
    }),
    partitionCounts: new Map(Object.entries(counts)),
  };
}

/** The assignment as `id -> ['t0-0', ...]`, keeping each list's order. */
const flat = (a: Assignment): Record<string, string[]> =>
  Object.fromEntries([...a].map(([id, tps]) => [id, tps.map(key)]));

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareTp = (a: TopicPartition, b: TopicPartition): number =>
  compareStrings(a.topic, b.topic) || a.partition - b.partition;

/** Topics that have partitions to hand out: subscribed by someone and counted. */
function assignableTopics(inp: AssignorInput): string[] {
  const out = new Set<string>();
  for (const m of inp.members) for (const t of m.topics) if ((inp.partitionCounts.get(t) ?? 0) > 0) out.add(t);
  return [...out].sort(compareStrings);
}

const eligible = (inp: AssignorInput): AssignorMember[] =>
  inp.members.filter((m) => m.topics.some((t) => (inp.partitionCounts.get(t) ?? 0) > 0));

/** Every assignable partition to exactly one subscriber; an entry per member; lists sorted. */
function expectDisjointCover(inp: AssignorInput, out: Assignment): void {
  expect([...out.keys()].sort()).toEqual(inp.members.map((m) => m.memberId).sort());
  const seen = new Set<string>();
  for (const m of inp.members) {
    const tps = out.get(m.memberId)!;
    for (let i = 1; i < tps.length; i++) expect(compareTp(tps[i - 1]!, tps[i]!)).toBeLessThan(0);
    for (const tp of tps) {
      expect(m.topics).toContain(tp.topic);
      expect(Number.isInteger(tp.partition) && tp.partition >= 0).toBe(true);
      expect(tp.partition).toBeLessThan(inp.partitionCounts.get(tp.topic)!);
      expect(seen.has(key(tp))).toBe(false);
      seen.add(key(tp));
    }
  }
  const total = assignableTopics(inp).reduce((n, t) => n + inp.partitionCounts.get(t)!, 0);
  expect(seen.size).toBe(total);
}

/** Deterministic shuffle (mulberry32) so shuffled inputs come from fast-check's seed. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let s = seed | 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function reorder(inp: AssignorInput, seed: number): AssignorInput {
  return {
    members: shuffled(inp.members, seed).map((m, i) => ({
      memberId: m.memberId,
      topics: shuffled(m.topics, seed + 7 * i + 1),
      owned: shuffled(m.owned, seed + 7 * i + 2).map((tp) => ({ ...tp })),
    })),
    partitionCounts: new Map(shuffled([...inp.partitionCounts], seed + 3)),
  };
}

const clone = (inp: AssignorInput): AssignorInput => structuredClone(inp);

// Ids whose string order differs from their numeric order ('m10' < 'm9').
const memberIdArb = fc.integer({ min: 0, max: 40 }).map((n) => `m${n}`);
const ownedArb = fc.array(
  fc.record({ topic: fc.constantFrom(...TOPICS, 'gone'), partition: fc.integer({ min: -1, max: 21 }) }),
  { maxLength: 25 },
);
/** Counts 1–20; now and then a topic is missing from the map (skipped). */
const countsArb = fc
  .tuple(...TOPICS.map(() => fc.option(fc.integer({ min: 1, max: 20 }), { freq: 6 })))
  .map((cs) => new Map(cs.flatMap((c, i): [string, number][] => (c === null ? [] : [[TOPICS[i]!, c]]))));

const inputArb: fc.Arbitrary<AssignorInput> = fc.record({
  members: fc.uniqueArray(
    fc.record({ memberId: memberIdArb, topics: fc.subarray(TOPICS), owned: ownedArb }),
    { minLength: 1, maxLength: 12, selector: (m) => m.memberId },
  ),
  partitionCounts: countsArb,
});

/** All members subscribe to the same topics (a few subscribe to nothing). */
const homogeneousArb: fc.Arbitrary<AssignorInput> = fc
  .record({
    topics: fc.subarray(TOPICS, { minLength: 1 }),
    counts: fc.tuple(...TOPICS.map(() => fc.integer({ min: 1, max: 20 }))),
    members: fc.uniqueArray(
      fc.record({ memberId: memberIdArb, owned: ownedArb }),
      { minLength: 1, maxLength: 12, selector: (m) => m.memberId },
    ),
    idle: fc.array(memberIdArb.map((id) => `idle-${id}`), { maxLength: 2 }),
  })
  .map(({ topics, counts, members, idle }) => ({
    members: [
      ...members.map((m) => ({ memberId: m.memberId, topics: [...topics], owned: m.owned })),
      ...[...new Set(idle)].map((memberId) => ({ memberId, topics: [], owned: [] })),
    ],
    partitionCounts: new Map(TOPICS.map((t, i) => [t, counts[i]!])),
  }));

const countsOf = (inp: AssignorInput, out: Assignment, members = eligible(inp)): number[] =>
  members.map((m) => out.get(m.memberId)!.length);
const spread = (xs: number[]): number => (xs.length === 0 ? 0 : Math.max(...xs) - Math.min(...xs));

describe('rangeAssignor', () => {
  it("Kafka's javadoc example: two consumers, two topics of three partitions", () => {
    expect(flat(rangeAssignor(input({ c0: ['t0', 't1'], c1: ['t0', 't1'] }, { t0: 3, t1: 3 })))).toEqual({
      c0: ['t0-0', 't0-1', 't1-0', 't1-1'],
      c1: ['t0-2', 't1-2'],
    });
  });

  it("Kafka's RangeAssignorTest cases", () => {
    expect(flat(rangeAssignor(input({ c: [] }, {})))).toEqual({ c: [] });
    expect(flat(rangeAssignor(input({ c: ['t'] }, {})))).toEqual({ c: [] });
    expect(flat(rangeAssignor(input({ c: ['t'] }, { t: 3, other: 3 })))).toEqual({ c: ['t-0', 't-1', 't-2'] });
    expect(flat(rangeAssignor(input({ c1: ['t'], c2: ['t'] }, { t: 1 })))).toEqual({ c1: ['t-0'], c2: [] });
    expect(flat(rangeAssignor(input({ c1: ['t'], c2: ['t'] }, { t: 2 })))).toEqual({ c1: ['t-0'], c2: ['t-1'] });
    expect(
      flat(rangeAssignor(input({ c1: ['t1'], c2: ['t1', 't2'], c3: ['t1'] }, { t1: 3, t2: 2 }))),
    ).toEqual({ c1: ['t1-0'], c2: ['t1-1', 't2-0', 't2-1'], c3: ['t1-2'] });
  });

  it('ranks members by memberId in code unit order, not input order', () => {
    expect(flat(rangeAssignor(input({ b: ['t'], a: ['t'], B: ['t'] }, { t: 5 })))).toEqual({
      B: ['t-0', 't-1'],
      a: ['t-2', 't-3'],
      b: ['t-4'],
    });
  });
});

describe('roundRobinAssignor', () => {
  it("Kafka's javadoc example: two consumers, two topics of three partitions", () => {
    expect(flat(roundRobinAssignor(input({ c0: ['t0', 't1'], c1: ['t0', 't1'] }, { t0: 3, t1: 3 })))).toEqual({
      c0: ['t0-0', 't0-2', 't1-1'],
      c1: ['t0-1', 't1-0', 't1-2'],
    });
  });

  it("Kafka's javadoc example: uneven subscriptions", () => {
    expect(
      flat(roundRobinAssignor(input({ c0: ['t0'], c1: ['t0', 't1'], c2: ['t0', 't1', 't2'] }, { t0: 1, t1: 2, t2: 3 }))),
    ).toEqual({ c0: ['t0-0'], c1: ['t1-0'], c2: ['t1-1', 't2-0', 't2-1', 't2-2'] });
  });

  it("Kafka's RoundRobinAssignorTest cases", () => {
    expect(flat(roundRobinAssignor(input({ c1: ['t'], c2: ['t'] }, { t: 1 })))).toEqual({ c1: ['t-0'], c2: [] });
    expect(
      flat(roundRobinAssignor(input({ c1: ['t1'], c2: ['t1', 't2'], c3: ['t1'] }, { t1: 3, t2: 2 }))),
    ).toEqual({ c1: ['t1-0'], c2: ['t1-1', 't2-0', 't2-1'], c3: ['t1-2'] });
  });
});

describe('cooperativeStickyAssignor', () => {
  it('with nothing owned, deals each partition to the least-loaded member', () => {
    expect(flat(cooperativeStickyAssignor(input({ c0: ['t0'], c1: ['t0'], c2: ['t0'] }, { t0: 7 })))).toEqual({
      c0: ['t0-0', 't0-3', 't0-6'],
      c1: ['t0-1', 't0-4'],
      c2: ['t0-2', 't0-5'],
    });
  });

  it('keeps owned partitions up to the quota and moves only the surplus', () => {
    const inp = input({ c0: [['t0'], ['t0-5', 't0-0', 't0-1', 't0-2', 't0-3', 't0-4']], c1: ['t0'] }, { t0: 6 });
    expect(flat(cooperativeStickyAssignor(inp))).toEqual({ c0: ['t0-0', 't0-1', 't0-2'], c1: ['t0-3', 't0-4', 't0-5'] });
  });

  it('drops invalid claims, and the first memberId keeps a partition claimed twice', () => {
    const inp = input(
      {
        c1: [['t0'], ['t0-0', 't9-0', 't0-7', 't1-0']],
        c0: [['t0'], ['t0-0']],
        c2: [['t0', 't1'], ['t1-0']],
      },
      { t0: 3, t1: 1, t9: 1 },
    );
    // t1-0 stays with c2 (c1 does not subscribe to t1); c1, then c0 by memberId, take the free t0 partitions.
    expect(flat(cooperativeStickyAssignor(inp))).toEqual({ c0: ['t0-0', 't0-2'], c1: ['t0-1'], c2: ['t1-0'] });
  });

  it('moves load along a chain when no single move helps (heterogeneous subscriptions)', () => {
    const inp = input(
      {
        a: [['t1'], ['t1-0', 't1-1', 't1-2']],
        b: [['t1', 't2'], ['t2-0', 't2-1']],
        c: [['t2'], ['t2-2']],
      },
      { t1: 3, t2: 3 },
    );
    expect(flat(cooperativeStickyAssignor(inp))).toEqual({
      a: ['t1-0', 't1-1'],
      b: ['t1-2', 't2-0'],
      c: ['t2-1', 't2-2'],
    });
  });

  it('gives members beyond the partition count nothing', () => {
    const out = cooperativeStickyAssignor(input({ a: ['t'], b: ['t'], c: ['t'] }, { t: 2 }));
    expect(flat(out)).toEqual({ a: ['t-0'], b: ['t-1'], c: [] });
  });
});

describe('all assignors', () => {
  it('are available by name', () => {
    expect(assignors.range).toBe(rangeAssignor);
    expect(assignors.roundrobin).toBe(roundRobinAssignor);
    expect(assignors['cooperative-sticky']).toBe(cooperativeStickyAssignor);
  });

  it.each(ALL)('%s rejects duplicate memberIds and bad partition counts', (_, assign) => {
    const dup: AssignorInput = {
      members: [
        { memberId: 'a', topics: ['t'], owned: [] },
        { memberId: 'a', topics: ['t'], owned: [] },
      ],
      partitionCounts: new Map([['t', 1]]),
    };
    expect(() => assign(dup)).toThrow(/memberId "a"/);
    expect(() => assign(input({ a: ['t'] }, { t: 1.5 }))).toThrow(/partition count/);
    expect(() => assign(input({ a: ['t'] }, { t: -1 }))).toThrow(/partition count/);
    expect(flat(assign(input({ a: ['t', 'u'] }, { t: 0, u: 1 })))).toEqual({ a: ['u-0'] });
  });

  it.each(ALL)('%s: a disjoint cover of the subscribed partitions, each to a subscriber', (_, assign) => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const before = clone(inp);
        const out = assign(inp);
        expect(inp).toEqual(before);
        expectDisjointCover(inp, out);
        for (const m of inp.members) {
          if (!eligible(inp).includes(m)) expect(out.get(m.memberId)).toEqual([]);
        }
      }),
      FC,
    );
  });

  it.each(ALL)('%s: the same whatever the order of members, topics and owned partitions', (_, assign) => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (inp, seed) => {
        const out = assign(inp);
        const again = assign(reorder(inp, seed));
        expect([...again.keys()]).toEqual([...out.keys()]);
        expect(flat(again)).toEqual(flat(out));
      }),
      FC,
    );
  });

  it('range: with homogeneous subscriptions, per topic counts differ by at most 1', () => {
    fc.assert(
      fc.property(homogeneousArb, (inp) => {
        const out = rangeAssignor(inp);
        expectDisjointCover(inp, out);
        for (const t of assignableTopics(inp)) {
          expect(spread(eligible(inp).map((m) => out.get(m.memberId)!.filter((tp) => tp.topic === t).length))).toBeLessThanOrEqual(1);
        }
      }),
      FC,
    );
  });

  it.each([
    ['roundrobin', roundRobinAssignor],
    ['cooperative-sticky', cooperativeStickyAssignor],
  ] as const)('%s: with homogeneous subscriptions, counts differ by at most 1', (_, assign) => {
    fc.assert(
      fc.property(homogeneousArb, (inp) => {
        const out = assign(inp);
        expectDisjointCover(inp, out);
        expect(spread(countsOf(inp, out))).toBeLessThanOrEqual(1);
      }),
      FC,
    );
  });
});

/** Max flow (Edmonds-Karp) over a capacity matrix; small graphs only. */
function maxFlow(cap: number[][], source: number, sink: number): number {
  let flow = 0;
  for (;;) {
    const prev = cap.map(() => -1);
    prev[source] = source;
    const queue = [source];
    while (queue.length > 0 && prev[sink] === -1) {
      const u = queue.shift()!;
      cap[u]!.forEach((c, v) => {
        if (c > 0 && prev[v] === -1) {
          prev[v] = u;
          queue.push(v);
        }
      });
    }
    if (prev[sink] === -1) return flow;
    let push = Infinity;
    for (let v = sink; v !== source; v = prev[v]!) push = Math.min(push, cap[prev[v]!]![v]!);
    for (let v = sink; v !== source; v = prev[v]!) {
      cap[prev[v]!]![v]! -= push;
      cap[v]![prev[v]!]! += push;
    }
    flow += push;
  }
}

/** Smallest achievable maximum count: source -> topic (its partitions) -> subscriber -> sink (limit). */
function optimalMaxCount(inp: AssignorInput): number {
  const topics = assignableTopics(inp);
  const members = eligible(inp);
  const total = topics.reduce((n, t) => n + inp.partitionCounts.get(t)!, 0);
  if (total === 0) return 0;
  const size = topics.length + members.length + 2;
  const [source, sink] = [size - 2, size - 1];
  const feasible = (limit: number): boolean => {
    const cap = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    topics.forEach((t, i) => {
      cap[source]![i] = inp.partitionCounts.get(t)!;
      members.forEach((m, j) => {
        if (m.topics.includes(t)) cap[i]![topics.length + j] = total;
      });
    });
    members.forEach((_, j) => (cap[topics.length + j]![sink] = limit));
    return maxFlow(cap, source, sink) === total;
  };
  let limit = Math.ceil(total / members.length);
  while (!feasible(limit)) limit++;
  return limit;
}

describe('cooperativeStickyAssignor balance with heterogeneous subscriptions', () => {
  it('no chain of moves can hand load to a member with 2 or fewer partitions less', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const out = cooperativeStickyAssignor(inp);
        const ms = eligible(inp);
        const count = ms.map((m) => out.get(m.memberId)!.length);
        // reach[a][b]: a can pass one partition on to b, directly or through others.
        const reach = ms.map((a) =>
          ms.map((b) => a !== b && out.get(a.memberId)!.some((tp) => b.topics.includes(tp.topic))),
        );
        for (let k = 0; k < ms.length; k++) {
          for (let a = 0; a < ms.length; a++) {
            for (let b = 0; b < ms.length; b++) if (reach[a]![k]! && reach[k]![b]!) reach[a]![b] = true;
          }
        }
        for (let a = 0; a < ms.length; a++) {
          for (let b = 0; b < ms.length; b++) {
            if (reach[a]![b]!) expect(count[b]!).toBeGreaterThanOrEqual(count[a]! - 1);
          }
        }
        expect(Math.max(0, ...count)).toBe(optimalMaxCount(inp));
      }),
      FC,
    );
  });
});

describe('cooperativeStickyAssignor stickiness', () => {
  const withOwned = (inp: AssignorInput, out: Assignment): AssignorInput => ({
    members: inp.members.map((m) => ({ ...m, owned: out.get(m.memberId)! })),
    partitionCounts: inp.partitionCounts,
  });

  it('with the same members, its own assignment fed back as owned comes back unchanged', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const out = cooperativeStickyAssignor(inp);
        expect(flat(cooperativeStickyAssignor(withOwned(inp, out)))).toEqual(flat(out));
      }),
      FC,
    );
  });

  it('when a member joins or leaves, only the surplus over the new quota moves', () => {
    const changeArb = fc.oneof(
      fc.record({ kind: fc.constant('join' as const), id: memberIdArb.map((id) => `new-${id}`) }),
      fc.record({ kind: fc.constant('leave' as const), index: fc.nat() }),
    );
    fc.assert(
      fc.property(homogeneousArb, changeArb, (inp, change) => {
        const before = cooperativeStickyAssignor(inp);
        const prev = withOwned(inp, before);
        const active = eligible(inp);
        let next: AssignorInput;
        if (change.kind === 'leave' && active.length > 1) {
          const gone = active[change.index % active.length]!.memberId;
          next = { ...prev, members: prev.members.filter((m) => m.memberId !== gone) };
        } else {
          const id = change.kind === 'join' ? change.id : 'new-member';
          next = { ...prev, members: [...prev.members, { memberId: id, topics: [...active[0]!.topics], owned: [] }] };
        }
        const after = cooperativeStickyAssignor(next);
        expectDisjointCover(next, after);

        const staying = eligible(next).filter((m) => before.has(m.memberId));
        const n = assignableTopics(next).reduce((s, t) => s + next.partitionCounts.get(t)!, 0);
        const floor = Math.floor(n / eligible(next).length);
        const extra = n % eligible(next).length;
        let moved = 0;
        let surplus = 0;
        let minimum = 0;
        let over = 0;
        for (const m of staying) {
          const had = before.get(m.memberId)!.map(key);
          const has = new Set(after.get(m.memberId)!.map(key));
          const lost = had.filter((k) => !has.has(k)).length;
          moved += lost;
          surplus += Math.max(0, had.length - has.size);
          minimum += Math.max(0, had.length - floor);
          if (had.length > floor) {
            over++;
            // Over the quota: keeps floor or floor + 1 of its own, gains nothing.
            expect(had.length - lost).toBe(has.size);
            expect(has.size === floor || has.size === floor + 1).toBe(true);
          } else {
            expect(lost).toBe(0);
          }
        }
        minimum -= Math.min(extra, over);
        expect(moved).toBe(surplus);
        expect(moved).toBe(minimum);
      }),
      FC,
    );
  });
});
