// Min-heap of (expiry deadline, seq) for the memory store's per-message TTLs. Entries of messages
// removed by other means are left in place and skipped when they reach the top (the caller checks
// that the message still exists with that deadline), which keeps removals O(1).

export class TtlHeap {
  private at: bigint[] = [];
  private seqs: number[] = [];

  get size(): number {
    return this.at.length;
  }

  clear(): void {
    this.at = [];
    this.seqs = [];
  }

  push(deadline: bigint, seq: number): void {
    const at = this.at;
    const seqs = this.seqs;
    let i = at.length;
    at.push(deadline);
    seqs.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! <= deadline) break;
      at[i] = at[p]!;
      seqs[i] = seqs[p]!;
      i = p;
    }
    at[i] = deadline;
    seqs[i] = seq;
  }

  peekDeadline(): bigint | null {
    return this.at.length > 0 ? this.at[0]! : null;
  }

  peekSeq(): number {
    return this.seqs[0]!;
  }

  pop(): void {
    const at = this.at;
    const seqs = this.seqs;
    const lastAt = at.pop()!;
    const lastSeq = seqs.pop()!;
    const n = at.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && at[r]! < at[l]! ? r : l;
      if (at[c]! >= lastAt) break;
      at[i] = at[c]!;
      seqs[i] = seqs[c]!;
      i = c;
    }
    at[i] = lastAt;
    seqs[i] = lastSeq;
  }
}
