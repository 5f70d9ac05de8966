// Public surface of the JetStream storage layer.

export * from "./store.js";
export * from "./errors.js";
export { StoreManager, type StoreManagerOptions, type RecoveryResult } from "./manager.js";
export { SqliteStreamStore } from "./sqlite_store.js";
export { MemoryStreamStore } from "./memory_store.js";
export { GroupCommit } from "./group_commit.js";
export { fileStoreMsgSize, memStoreMsgSize, subjectBytes } from "./msg_size.js";
export { subjectMatches, hasWildcard, isAllFilter } from "./subject_match.js";
