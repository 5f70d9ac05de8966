// The checkpoint thread: copies a stream database's WAL into the database file and fsyncs both,
// so that the event loop never waits for that I/O. It opens its own connection per request and
// closes it before reporting, so it never holds a lock between requests (the WAL can restart)
// and it is never the last connection to a database (which would delete the WAL).
//
// Request: { id, path, done: SharedArrayBuffer(4) }. Reply: { id, busy, log, checkpointed } or
// { id, error }. `done` is set to 1 (and notified) once the connection is closed, so the main
// thread can wait for it synchronously before it closes or deletes the stream.

import { parentPort } from "node:worker_threads";
import Database from "better-sqlite3";

export interface CheckpointRequest {
  id: number;
  path: string;
  done: SharedArrayBuffer;
}

export interface CheckpointReply {
  id: number;
  busy?: boolean;
  /** Frames in the WAL when the checkpoint ran. */
  log?: number;
  /** Frames copied into the database (all of them unless busy). */
  checkpointed?: number;
  error?: string;
  code?: string;
}

function run(req: CheckpointRequest): CheckpointReply {
  let db: Database.Database | null = null;
  try {
    db = new Database(req.path, { fileMustExist: true, timeout: 1000 });
    // NORMAL makes the checkpoint sync the WAL before copying and the database after it, and
    // only then lets the log restart: nothing acknowledged depends on unsynced pages.
    db.pragma("synchronous = NORMAL");
    const r = db.pragma("wal_checkpoint(PASSIVE)") as { busy: number; log: number; checkpointed: number }[];
    const row = r[0] ?? { busy: 1, log: -1, checkpointed: -1 };
    return { id: req.id, busy: row.busy !== 0, log: row.log, checkpointed: row.checkpointed };
  } catch (e) {
    return { id: req.id, error: (e as Error).message, code: (e as { code?: string }).code };
  } finally {
    try {
      db?.close();
    } catch {
      // the reply already carries what went wrong
    }
    const flag = new Int32Array(req.done);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
}

parentPort?.on("message", (req: CheckpointRequest) => parentPort!.postMessage(run(req)));
