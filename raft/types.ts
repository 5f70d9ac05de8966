// Wire- and storage-level shapes shared by the Raft core, its storage and its drivers.
// Plain data only: everything here must be serialisable by codec.ts and comparable by the simulator.

export type NodeId = string;
/** The absent node id: no vote cast, no leader known. */
export const NONE: NodeId = "";

export enum EntryType {
  Normal = 0,
  /** data is an encoded ConfEntry (see conf.ts): the change and the whole resulting configuration. */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on disk before any message that depends on it leaves the node. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export type ConfChangeType = "addVoter" | "addLearner" | "removeNode";

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

export enum MessageType {
  App = 1,
  AppResp = 2,
  Vote = 3,
  VoteResp = 4,
  PreVote = 5,
  PreVoteResp = 6,
  Heartbeat = 7,
  HeartbeatResp = 8,
  Snap = 9,
  TimeoutNow = 10,
  ReadIndex = 11,
  ReadIndexResp = 12,
  /**
   * A heartbeat from a leader whose group is idle (everything committed, every member caught up):
   * the receiver also stops its election timer until something new happens (see RaftConfig.quiesce).
   * `index` numbers the leader's attempt to quiesce.
   */
  Quiesce = 13,
  /** The member quiesced on Quiesce attempt `index`. Once every member did, the leader stops too. */
  QuiesceResp = 14,
}

/**
 * One flat shape for every message type (like raftpb.Message): fields a type does not use are zero/empty.
 * A flat, always-complete object keeps property access monomorphic in the hot path.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry at `index`; AppResp reject: term at `rejectHint`; Vote: candidate's last term. */
  logTerm: number;
  /** App: index preceding `entries`; AppResp: last matched index (or the rejected index); Vote: candidate's last index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot: Snapshot | null;
  /** Vote: "transfer" for a leadership transfer; Heartbeat/ReadIndex: the read request context. */
  context: string;
}

export enum Role {
  Follower = "follower",
  PreCandidate = "pre-candidate",
  Candidate = "candidate",
  Leader = "leader",
}

export interface SoftState {
  lead: NodeId;
  role: Role;
  /** True while the node found corruption in its log and has not yet caught up past what it may have acknowledged. */
  recovering: boolean;
}

/** A ReadIndex result: once the state machine has applied `index`, a read for `context` is linearizable. */
export interface ReadState {
  index: number;
  context: string;
}

/**
 * A batch of work for the caller. Order of duties: persist `snapshot`, `entries` and `hardState`
 * (atomically, and synced when `mustSync`), then send `messages`, then apply `committedEntries`,
 * then call `advance(ready)`.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
}

export function emptyMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: "",
  };
}

export function isEmptySnapshot(s: Snapshot | null | undefined): boolean {
  return !s || s.meta.index === 0;
}

export class CorruptionError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = "CorruptionError";
  }
}
