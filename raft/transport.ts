// How Raft messages leave and reach a RaftHost. The server implements Transport over internal
// subjects (encoding with codec.ts); tests and benchmarks use InMemoryNetwork.
import type { Message, NodeId } from "./types.js";

export interface RaftEnvelope {
  group: string;
  message: Message;
}

/**
 * The group name of a host's own liveness pings (one per peer node per tick while groups there are
 * quiesced): no Raft group has an empty name. A transport carries them like any other envelope.
 */
export const HOST_GROUP = "";

/**
 * Best-effort, unordered, possibly lossy delivery is all Raft needs. send() is called once per host
 * processing turn with every message of every group, after the state they depend on is durable; it
 * must not throw and must not call back into the host synchronously.
 */
export interface Transport {
  send(batch: RaftEnvelope[]): void;
}

/** Something that accepts delivered messages: a RaftHost. */
export interface RaftReceiver {
  deliver(group: string, message: Message): void;
}

/**
 * An in-process network of hosts keyed by node id, delivering asynchronously (next macrotask), with
 * an optional filter to drop messages (partitions in tests).
 */
export class InMemoryNetwork {
  private readonly hosts = new Map<NodeId, RaftReceiver>();
  drop: ((from: NodeId, to: NodeId) => boolean) | null = null;
  sent = 0;

  transportFor(id: NodeId): Transport {
    return {
      send: (batch) => {
        if (batch.length === 0) return;
        this.sent += batch.length;
        setImmediate(() => {
          for (const { group, message } of batch) {
            if (this.drop?.(id, message.to)) continue;
            this.hosts.get(message.to)?.deliver(group, message);
          }
        });
      },
    };
  }

  attach(id: NodeId, host: RaftReceiver): void {
    this.hosts.set(id, host);
  }

  detach(id: NodeId): void {
    this.hosts.delete(id);
  }
}
