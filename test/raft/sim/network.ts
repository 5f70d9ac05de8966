// The simulated network's fault model: per-message loss, duplication and delay (reordering follows
// from random delays, plus rare very long delays), and directed link cuts, from which symmetric
// partitions and asymmetric (one-way) links are built.
import type { NodeId } from "../../../raft/types.js";
import type { Rng } from "./rng.js";

export interface NetworkProfile {
  dropP: number;
  dupP: number;
  minDelay: number;
  maxDelay: number;
  longDelayP: number;
  longDelay: number;
}

export class SimNetwork {
  private readonly cut = new Set<string>();
  profile: NetworkProfile;

  constructor(
    private readonly rng: Rng,
    profile: NetworkProfile,
  ) {
    this.profile = { ...profile };
  }

  blocked(from: NodeId, to: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  partition(sideA: NodeId[], sideB: NodeId[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cut.add(`${a}>${b}`);
        this.cut.add(`${b}>${a}`);
      }
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  healRandom(): string | null {
    if (this.cut.size === 0) return null;
    const links = [...this.cut];
    const l = this.rng.pick(links);
    this.cut.delete(l);
    const [a, b] = l.split(">");
    this.cut.delete(`${b}>${a}`);
    return l;
  }

  cutCount(): number {
    return this.cut.size;
  }

  /** Delivery delays for one message: [] when it is dropped, two when duplicated. */
  delays(): number[] {
    const p = this.profile;
    if (p.dropP > 0 && this.rng.chance(p.dropP)) return [];
    const one = () => (this.rng.chance(p.longDelayP) ? this.rng.int(p.maxDelay, p.longDelay) : this.rng.int(p.minDelay, p.maxDelay));
    if (p.dupP > 0 && this.rng.chance(p.dupP)) return [one(), one()];
    return [one()];
  }
}
