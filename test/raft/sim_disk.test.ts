// The simulator's disk model: what a crash keeps of a write, and that damage to anything a node may
// have acknowledged is detected on restart (reported, with a recovery watermark), never silently dropped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Entry, EntryType } from "../../raft/types.js";
import { SimDisk } from "./sim/disk.js";
import { Rng } from "./sim/rng.js";

const conf = { voters: ["a", "b", "c"], learners: [] };
const e = (index: number, term = 1): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(`e${index}`) });

/** An Rng whose draws are scripted: chance() answers in order, int() gives the numbers in order. */
function scripted(chances: boolean[], ints: number[]): Rng {
  const r = new Rng(1);
  r.chance = () => chances.shift() ?? false;
  r.int = (lo: number) => ints.shift() ?? lo;
  return r;
}

test("a torn write keeps a prefix, drops its garbled tail silently, and the survivors are then ordinary log", () => {
  const d = new SimDisk(conf);
  d.write({ term: 1, vote: "a", commit: 0 }, [e(1), e(2)], null);
  // Crash mid-write of 3..6: entries 3..5 reach the disk, the last of them garbled.
  d.tornWrite(scripted([true], [3]), { term: 1, vote: "a", commit: 2 }, [e(3), e(4), e(5), e(6)], null);
  let { storage, corruptAt } = d.load();
  assert.equal(corruptAt, 0, "the tail of an unfinished write is no damage");
  assert.equal(storage.lastIndex(), 4);
  assert.equal(storage.recoveryWatermark(), 0);
  // Later, a bit rots in entry 4 (kept from the torn write, since acknowledgeable): that is damage.
  const rotted = d.rot(scripted([], [3, 0, 0]));
  assert.equal(rotted, 4);
  ({ storage, corruptAt } = d.load());
  assert.equal(corruptAt, 4);
  assert.equal(storage.lastIndex(), 3);
  assert.equal(storage.recoveryWatermark(), 4);
});

test("a rotten snapshot leaves an empty, recovering disk that still knows its configuration", () => {
  const d = new SimDisk(conf);
  d.write({ term: 2, vote: "b", commit: 3 }, [e(1), e(2), e(3), e(4)], null);
  d.snapshotAndCompact({ meta: { index: 3, term: 1, conf }, data: new Uint8Array([1, 2, 3]) }, 3);
  assert.equal(d.rotSnapshot(scripted([], [0, 0])), 3);
  const { storage, corruptAt, snapshotDamaged } = d.load();
  assert.equal(corruptAt, 3);
  assert.equal(snapshotDamaged, true);
  assert.equal(storage.lastIndex(), 0);
  assert.equal(storage.recoveryWatermark(), 4);
  assert.deepEqual(storage.initialState().conf, conf, "else, with no configuration entry in the log it catches up, it never could campaign again");
  assert.deepEqual(storage.initialState().hardState, { term: 2, vote: "b", commit: 0 }, "term and vote are kept");
});
