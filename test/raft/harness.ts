// A tiny synchronous cluster for unit tests: RaftCores over MemoryStorage, every Ready persisted at
// once, messages delivered in order unless a link is cut or a filter drops them.
import { RaftCore, type RaftConfig } from "../../raft/core.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { type ConfState, type Entry, EntryType, type Message, type NodeId, type ReadState, Role } from "../../raft/types.js";
import { Rng } from "./sim/rng.js";

export type CoreOptions = Partial<Omit<RaftConfig, "id" | "storage" | "random">>;

export class TestCluster {
  readonly cores = new Map<NodeId, RaftCore>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly down = new Set<NodeId>();
  private readonly cut = new Set<string>();
  /** Messages in flight (delivered by deliverAll / settle). */
  queue: Message[] = [];
  /** Return true to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  readonly rng: Rng;
  sent: Message[] = [];

  constructor(
    ids: NodeId[],
    readonly opts: CoreOptions = {},
    seed = 1,
    conf: ConfState = { voters: ids, learners: [] },
  ) {
    this.rng = new Rng(seed);
    for (const id of ids) this.add(id, conf);
  }

  add(id: NodeId, conf: ConfState = { voters: [], learners: [] }): RaftCore {
    const storage = new MemoryStorage(conf);
    this.storages.set(id, storage);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    return this.boot(id);
  }

  private boot(id: NodeId): RaftCore {
    const storage = this.storages.get(id)!;
    const core = new RaftCore({ id, storage, random: () => this.rng.next(), applied: storage.snapshot().meta.index, ...this.opts });
    this.cores.set(id, core);
    return core;
  }

  core(id: NodeId): RaftCore {
    return this.cores.get(id)!;
  }

  /** Crash (unpersisted state is lost; with this harness nothing is ever unpersisted) and restart. */
  restart(id: NodeId): RaftCore {
    this.applied.set(id, this.applied.get(id)!.filter((e) => e.index <= this.storages.get(id)!.snapshot().meta.index));
    return this.boot(id);
  }

  isolate(id: NodeId): void {
    for (const other of this.cores.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs every node's Ready: persist, queue messages, apply. */
  flush(): void {
    for (const [id, core] of this.cores) {
      if (this.down.has(id)) continue;
      while (core.hasReady()) {
        const rd = core.ready();
        this.storages.get(id)!.save(rd.hardState, rd.entries, rd.snapshot);
        for (const m of rd.messages) {
          this.sent.push(m);
          this.queue.push(m);
        }
        if (rd.snapshot) this.applied.set(id, []);
        this.applied.get(id)!.push(...rd.committedEntries);
        this.readStates.get(id)!.push(...rd.readStates);
        core.advance(rd);
      }
    }
  }

  /** Delivers queued messages (and what they cause) until nothing is left. */
  settle(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.queue.length === 0) return;
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.deliver(m);
    }
    throw new Error("cluster did not settle");
  }

  deliver(m: Message): void {
    if (this.down.has(m.to) || this.cut.has(`${m.from}>${m.to}`)) return;
    if (this.filter?.(m)) return;
    this.cores.get(m.to)?.step(m);
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.core(id).tick();
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const [id, c] of this.cores) if (!this.down.has(id)) c.tick();
      this.settle();
    }
  }

  elect(id: NodeId): RaftCore {
    this.core(id).campaign();
    this.settle();
    const c = this.core(id);
    if (c.role !== Role.Leader) throw new Error(`${id} did not win the election (role ${c.role}, term ${c.term})`);
    return c;
  }

  leaders(): RaftCore[] {
    return [...this.cores.entries()].filter(([id, c]) => !this.down.has(id) && c.role === Role.Leader).map(([, c]) => c);
  }

  propose(id: NodeId, s: string): number {
    const r = this.core(id).propose(new TextEncoder().encode(s));
    if (!r.ok) throw new Error(`proposal refused: ${r.reason}`);
    return r.index;
  }

  /** The data of the normal, non-empty entries a node applied, as strings. */
  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === EntryType.Normal && e.data.length)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export function ent(index: number, term: number, data = ""): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}
