// Public surface of the Raft library. See README.md for the API and the invariants it keeps.
export { RaftCore, type RaftConfig, type RaftStatus, type ProposeResult, type ProgressStatus } from "./core.js";
export { RaftHost, RaftGroup, RaftError, type RaftHostOptions, type GroupOptions, type StateMachine } from "./host.js";
export { MemoryStorage } from "./memory_storage.js";
export { SqliteRaftStore, SqliteLogStorage, type SqliteRaftStoreOptions } from "./sqlite_storage.js";
export type { Storage, LogStore, InitialState } from "./storage.js";
export { HOST_GROUP, InMemoryNetwork, type Transport, type RaftEnvelope, type RaftReceiver } from "./transport.js";
export { encodeMessage, decodeMessage } from "./codec.js";
export { applyConfChange, decodeConfEntry, encodeConfEntry, type ConfEntry } from "./conf.js";
export * from "./types.js";
