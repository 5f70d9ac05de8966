// A linearizability checker: the Wing & Gong search with Lowe's memoisation, as Porcupine implements
// it (our own code). A history is partitioned by key first (registers are independent, so the history
// is linearizable iff each key's sub-history is: P-compositionality), then for each key we search for
// an order of the operations that respects real time and the register's sequential specification.

export interface Operation {
  clientId: number;
  kind: "put" | "get";
  key: string;
  /** put: the value written; get: the value read (undefined = key absent). */
  value: number | undefined;
  call: number;
  /** Infinity when the outcome is unknown (e.g. the client timed out): it may or may not have happened. */
  ret: number;
}

export interface CheckResult {
  ok: boolean;
  /** For a failure: the key whose history has no linearization. */
  key?: string;
  /** True when the search gave up (budget exhausted): neither proven nor refuted. */
  unknown?: boolean;
}

interface Node {
  opIndex: number;
  isCall: boolean;
  time: number;
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/** Checks a register history. `maxSteps` bounds the search (exponential in the worst case). */
export function checkLinearizable(history: Operation[], maxSteps = 2_000_000): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    let l = byKey.get(op.key);
    if (!l) byKey.set(op.key, (l = []));
    l.push(op);
  }
  let unknown = false;
  for (const [key, ops] of byKey) {
    const r = checkRegister(ops, maxSteps);
    if (r === false) return { ok: false, key };
    if (r === undefined) unknown = true;
  }
  return unknown ? { ok: true, unknown: true } : { ok: true };
}

/** true: linearizable; false: not; undefined: search budget exhausted. */
function checkRegister(ops: Operation[], maxSteps: number): boolean | undefined {
  // Events in time order; at equal times calls go first, which can only add linearizations (no false alarms).
  const events: Node[] = [];
  ops.forEach((op, i) => {
    const call: Node = { opIndex: i, isCall: true, time: op.call, match: null, prev: null, next: null };
    const ret: Node = { opIndex: i, isCall: false, time: op.ret, match: null, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { opIndex: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { node: Node; state: number | undefined }[] = [];
  let state: number | undefined = undefined;
  let entry = head.next;
  let steps = 0;

  const lift = (n: Node) => {
    n.prev!.next = n.next;
    if (n.next) n.next.prev = n.prev;
    const m = n.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (n: Node) => {
    const m = n.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    n.prev!.next = n;
    if (n.next) n.next.prev = n;
  };

  while (head.next !== null) {
    if (++steps > maxSteps) return undefined;
    if (entry === null) return false;
    if (entry.isCall) {
      const op = ops[entry.opIndex]!;
      let ok: boolean;
      let next: number | undefined;
      if (op.kind === "put") {
        ok = true;
        next = op.value;
      } else {
        ok = op.value === state;
        next = state;
      }
      if (ok) {
        const w = entry.opIndex >>> 5;
        const bit = 1 << (entry.opIndex & 31);
        linearized[w]! |= bit;
        const key = `${linearized.join(",")}|${next}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ node: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[w]! &= ~bit;
      }
      entry = entry.next;
    } else {
      // A return reached before its call was linearized: undo the last choice.
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      linearized[top.node.opIndex >>> 5]! &= ~(1 << (top.node.opIndex & 31));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return true;
}
