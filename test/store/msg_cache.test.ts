import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MsgCache } from "../../jetstream/store/msg_cache.js";
import type { StoredMsg } from "../../jetstream/store/store.js";

function msg(seq: number, size: number, tag: number): StoredMsg {
  return { seq, ts: BigInt(tag), subject: "s", hdr: null, data: Buffer.alloc(size), ttl: 0 };
}

type Op =
  | { op: "put"; owner: number; seq: number; size: number }
  | { op: "get"; owner: number; seq: number }
  | { op: "delete"; owner: number; seq: number }
  | { op: "forget"; owner: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), owner: fc.nat(2), seq: fc.integer({ min: 1, max: 30 }), size: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ op: fc.constant("get" as const), owner: fc.nat(2), seq: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant("delete" as const), owner: fc.nat(2), seq: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant("forget" as const), owner: fc.nat(2) }),
);

test("the message cache never answers with a message that was deleted or forgotten, and stays within twice its bounds", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 400, max: 4000 }), (ops, entries, bytes) => {
      const cache = new MsgCache({ entries, bytes });
      const owners = [{}, {}, {}];
      // What the store holds: the cache may forget anything, but may only answer with this.
      const stored = new Map<string, StoredMsg>();
      let tag = 0;
      for (const o of ops) {
        const owner = owners[o.owner]!;
        if (o.op === "put") {
          // A store puts what it read; a sequence is stored once until removed.
          const key = `${o.owner}:${o.seq}`;
          let m = stored.get(key);
          if (m === undefined) {
            m = msg(o.seq, o.size, tag++);
            stored.set(key, m);
          }
          cache.put(owner, m);
        } else if (o.op === "get") {
          const got = cache.get(owner, o.seq);
          if (got !== undefined) assert.equal(got, stored.get(`${o.owner}:${o.seq}`));
        } else if (o.op === "delete") {
          stored.delete(`${o.owner}:${o.seq}`);
          cache.delete(owner, o.seq);
        } else {
          for (const k of [...stored.keys()]) if (k.startsWith(`${o.owner}:`)) stored.delete(k);
          cache.forget(owner);
        }
        assert.ok(cache.size() <= 2 * entries, `${cache.size()} held, bound ${entries} per generation`);
      }
    }),
  );
});

test("a message read again is answered from the cache, the older generation's hits move forward", () => {
  const cache = new MsgCache({ entries: 2, bytes: 1 << 20 });
  const o = {};
  const a = msg(1, 10, 0);
  const b = msg(2, 10, 0);
  const c = msg(3, 10, 0);
  cache.put(o, a);
  cache.put(o, b);
  cache.put(o, c); // a and b become the older generation
  assert.equal(cache.get(o, 1), a); // moved forward, next to c
  cache.put(o, msg(4, 10, 0)); // the current generation (c, a) is full: it becomes the older one; b is dropped
  assert.equal(cache.get(o, 2), undefined);
  assert.equal(cache.get(o, 1), a);
  assert.equal(cache.get(o, 3), c);
  assert.deepEqual([cache.hits, cache.misses], [3, 1]);
});

test("messages too large for the cache are not kept", () => {
  const cache = new MsgCache({ entries: 100, bytes: 8000 });
  const o = {};
  cache.put(o, msg(1, 2000, 0));
  assert.equal(cache.get(o, 1), undefined);
  cache.put(o, msg(2, 100, 0));
  assert.notEqual(cache.get(o, 2), undefined);
});

// The cache in a real file store: every way a message can go must take it out of the cache too.
import { StoreManager } from "../../jetstream/store/manager.js";
import { tempDir } from "./harness.js";
import type { StreamStore } from "../../jetstream/store/store.js";

const T0 = 1_700_000_000_000_000_000n;

function withStore(fn: (s: StreamStore, m: StoreManager) => void): void {
  const dir = tempDir("msgcache");
  const m = StoreManager.open(dir.path);
  try {
    fn(m.createStream("ACC", "S", "file"), m);
  } finally {
    m.close();
    dir.remove();
  }
}

/** Stores n messages on subjects a.0 .. a.(k-1), commits, and reads each once (so each is cached). */
function fill(s: StreamStore, m: StoreManager, n: number, k = 3): void {
  const from = s.lastSeq() + 1;
  for (let seq = from; seq < from + n; seq++) s.storeMsg(seq, T0 + BigInt(seq), `a.${seq % k}`, null, Buffer.from(`v${seq}`));
  m.commit.runNow();
  for (let seq = from; seq < from + n; seq++) assert.equal(s.loadMsg(seq)?.data.toString(), `v${seq}`);
}

test("a message removed in any way is not answered from the cache", () => {
  withStore((s, m) => {
    fill(s, m, 20);
    assert.ok(s.removeMsg(5));
    assert.equal(s.loadMsg(5), null, "removeMsg");
    assert.ok(s.eraseMsg(6));
    assert.equal(s.loadMsg(6), null, "eraseMsg");
    assert.equal(s.compact(8), 5); // 1..7 minus 5 and 6
    assert.equal(s.loadMsg(7), null, "compact");
    s.purgeEx("a.1", 0, 0); // 10, 13, 16, 19
    assert.equal(s.loadMsg(10), null, "purge by subject");
    assert.equal(s.loadMsg(11)?.data.toString(), "v11");
    s.truncate(15);
    assert.equal(s.loadMsg(17), null, "truncate");
    // The truncated sequences are stored again with other contents.
    for (let seq = 16; seq <= 18; seq++) s.storeMsg(seq, T0 + BigInt(seq), "b", null, Buffer.from(`new${seq}`));
    m.commit.runNow();
    assert.equal(s.loadMsg(17)?.data.toString(), "new17", "a truncated sequence stored again");
    s.purge();
    assert.equal(s.loadMsg(11), null, "purge");
  });
  withStore((s, m) => {
    fill(s, m, 3);
    s.truncate(0); // everything goes and sequences start over
    s.storeMsg(1, T0, "c", null, Buffer.from("again"));
    m.commit.runNow();
    assert.equal(s.loadMsg(1)?.data.toString(), "again", "truncate(0), then stored again");
  });
});

test("messages removed by limits and by age are not answered from the cache", () => {
  withStore((s, m) => {
    fill(s, m, 10);
    s.setLimits({ maxMsgsPerSubject: 1 });
    // a.0 keeps 9, a.1 keeps 10, a.2 keeps 8.
    assert.equal(s.loadMsg(1), null, "per-subject limit");
    assert.equal(s.loadMsg(7), null, "per-subject limit");
    assert.equal(s.loadMsg(10)?.data.toString(), "v10");
    s.setLimits({ maxMsgsPerSubject: 0, maxAgeNanos: 5n });
    fill(s, m, 2); // 11, 12 (cached)
    s.expire(T0 + 100n);
    assert.equal(s.loadMsg(11), null, "max_age");
    assert.equal(s.loadMsg(12), null, "max_age");
  });
});
