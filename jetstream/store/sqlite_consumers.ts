// The consumers' rows in a stream's SQLite database: a header row per consumer (config, ack
// policy, delivered and ack floor, checksummed) and its pending and redelivered rows. The sinks
// write pending/redelivered changes as they happen; the store writes the dirty headers at commit.

import { consumerCrc, pendingCrc, redeliveredCrc } from "./checksum.js";
import { ConsumerHandle, type ConsumerOwner } from "./consumer_handle.js";
import { ConsumerStateCore, emptyConsumerState, type ConsumerSink } from "./consumer_state.js";
import { ConsumerExistsError, StoreCorruptError } from "./errors.js";
import { BadRow, big, int, text, type DB, type Statements } from "./sqlite_statements.js";
import type { AckPolicy, ConsumerState, ConsumerStore } from "./store.js";

/** The stream store the consumers belong to. */
export interface ConsumerRowsOwner extends ConsumerOwner {
  readonly account: string;
  readonly name: string;
  readonly path: string;
}

/** The consumers of one stream store; the store checks that it is usable before each call. */
export class SqliteConsumers {
  /** Every consumer in the database: name -> row id. */
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly owner: ConsumerRowsOwner,
    /** The statements (the sinks write through them directly), */
    private readonly s: Statements,
    /** and the statements after inserting the message rows held (the store's q). */
    private readonly q: () => Statements,
    /** The open handles, and those whose header row the next commit writes (the store's). */
    private readonly handles: Map<string, ConsumerHandle>,
    private readonly dirty: Set<ConsumerHandle>,
  ) {}

  /** At open: the consumers' names and row ids. */
  load(db: DB, corrupt: (d: string) => StoreCorruptError): void {
    for (const [cid, name] of db.prepare("SELECT cid, name FROM consumers").raw().all() as [unknown, unknown][]) {
      if (typeof name !== "string" || typeof cid !== "number") throw corrupt("damaged consumer row");
      this.ids.set(name, cid);
    }
  }

  /** verify: full. Every consumer's rows read back with valid checksums. */
  verify(corrupt: (d: string) => StoreCorruptError): void {
    for (const name of this.ids.keys()) this.read(name, corrupt);
  }

  create(name: string, configJson: string, ackPolicy: AckPolicy): ConsumerStore {
    if (this.ids.has(name)) throw new ConsumerExistsError(this.owner.name, name);
    let cid = 0;
    try {
      this.owner.beginWrite();
      cid = this.q().cIns.get(name, configJson, ackPolicy, consumerCrc(name, configJson, ackPolicy, [0, 0, 0, 0])) as number;
    } catch (e) {
      this.owner.writeFailed(e);
    }
    this.ids.set(name, cid);
    const h = this.make(name, cid, configJson, ackPolicy);
    return h;
  }

  /** The open handle, or one made from the saved rows; null: no such consumer. */
  get(name: string): ConsumerStore | null {
    const open = this.handles.get(name);
    if (open !== undefined) return open;
    if (!this.ids.has(name)) return null;
    const saved = this.read(name);
    const h = this.make(name, saved.cid, saved.config, saved.ackPolicy);
    h.core.restore(saved.state);
    return h;
  }

  private read(
    name: string,
    corrupt?: (d: string) => StoreCorruptError,
  ): { cid: number; config: string; ackPolicy: AckPolicy; state: ConsumerState } {
    const cid = this.ids.get(name)!;
    try {
      const row = this.q().cLoad.get(cid) as unknown[] | undefined;
      if (row === undefined) throw new BadRow("row missing");
      const config = text(row[0]);
      const ack = text(row[1]);
      if (ack !== "none" && ack !== "all" && ack !== "explicit") throw new BadRow(`ack policy ${ack}`);
      const nums = [int(row[2]), int(row[3]), int(row[4]), int(row[5])];
      if (consumerCrc(name, config, ack, nums) !== int(row[6])) throw new BadRow("checksum mismatch");
      const st = emptyConsumerState();
      st.delivered = { consumerSeq: nums[0]!, streamSeq: nums[1]! };
      st.ackFloor = { consumerSeq: nums[2]!, streamSeq: nums[3]! };
      for (const r of this.q().cLoadPending.all(cid) as unknown[][]) {
        const sseq = int(r[0]);
        const cseq = int(r[1]);
        const ts = big(r[2]);
        if (pendingCrc(cid, sseq, cseq, ts) !== int(r[3])) throw new BadRow(`pending ${sseq}: checksum mismatch`);
        st.pending.set(sseq, { consumerSeq: cseq, ts });
      }
      for (const r of this.q().cLoadRedelivered.all(cid) as unknown[][]) {
        const sseq = int(r[0]);
        const count = int(r[1]);
        if (redeliveredCrc(cid, sseq, count) !== int(r[2])) throw new BadRow(`redelivered ${sseq}: checksum mismatch`);
        st.redelivered.set(sseq, count);
      }
      return { cid, config, ackPolicy: ack, state: st };
    } catch (e) {
      if (!(e instanceof BadRow)) throw e;
      const d = `consumer ${JSON.stringify(name)}: ${e.message}`;
      throw corrupt ? corrupt(d) : new StoreCorruptError(this.owner.account, this.owner.name, this.owner.path, d);
    }
  }

  private make(name: string, cid: number, cfg: string, ackPolicy: AckPolicy): ConsumerHandle {
    const s = this.s;
    let handle: ConsumerHandle;
    const sink: ConsumerSink = {
      putPending: (sseq, cseq, ts) => s.cPutPending.run(cid, sseq, cseq, ts, pendingCrc(cid, sseq, cseq, ts)),
      delPending: (sseq) => s.cDelPending.run(cid, sseq),
      delUpTo: (sseq) => {
        s.cDelPendingUpTo.run(cid, sseq);
        s.cDelRedeliveredUpTo.run(cid, sseq);
      },
      putRedelivered: (sseq, count) => s.cPutRedelivered.run(cid, sseq, count, redeliveredCrc(cid, sseq, count)),
      delRedelivered: (sseq) => s.cDelRedelivered.run(cid, sseq),
      headerChanged: () => this.dirty.add(handle),
      replaceAll: (st: ConsumerState) => {
        s.cDelPendingAll.run(cid);
        s.cDelRedeliveredAll.run(cid);
        for (const [sseq, p] of st.pending) s.cPutPending.run(cid, sseq, p.consumerSeq, p.ts, pendingCrc(cid, sseq, p.consumerSeq, p.ts));
        for (const [sseq, n] of st.redelivered) s.cPutRedelivered.run(cid, sseq, n, redeliveredCrc(cid, sseq, n));
        this.dirty.add(handle);
      },
    };
    handle = new ConsumerHandle(name, cfg, new ConsumerStateCore(ackPolicy, sink), this.owner, cid);
    this.handles.set(name, handle);
    return handle;
  }

  names(): string[] {
    return Array.from(this.ids.keys()).sort();
  }

  delete(name: string): boolean {
    const cid = this.ids.get(name);
    if (cid === undefined) return false;
    try {
      this.owner.beginWrite();
      this.q().cDel.run(cid);
      this.q().cDelPendingAll.run(cid);
      this.q().cDelRedeliveredAll.run(cid);
    } catch (e) {
      this.owner.writeFailed(e);
    }
    this.ids.delete(name);
    const h = this.handles.get(name);
    if (h !== undefined) {
      h.deleted = true;
      this.dirty.delete(h);
      this.handles.delete(name);
    }
    return true;
  }
}
