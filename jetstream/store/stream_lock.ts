// One process at a time per stream database. The database itself is opened in SQLite's normal
// locking mode (the checkpoint thread needs a second connection), so exclusivity comes from a
// lock file beside it: a tiny SQLite database held in exclusive locking mode. The OS releases
// its lock when the process dies, however it dies, so there is never a stale lock to clean up.

import Database from "better-sqlite3";

export const LOCK_SUFFIX = "-lock";

export class StreamLock {
  private constructor(private db: Database.Database | null) {}

  /** Takes the lock for the database at `path`; null if another connection (any process) holds it. */
  static acquire(path: string): StreamLock | null {
    const db = new Database(path + LOCK_SUFFIX, { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = MEMORY");
      // An exclusive transaction in exclusive locking mode keeps its lock after COMMIT.
      db.exec("BEGIN EXCLUSIVE; COMMIT");
      return new StreamLock(db);
    } catch (e) {
      db.close();
      if (String((e as { code?: unknown }).code).startsWith("SQLITE_BUSY")) return null;
      throw e;
    }
  }

  release(): void {
    const db = this.db;
    this.db = null;
    db?.close();
  }
}
