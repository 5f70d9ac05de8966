// Live-message counts per block of 1024 consecutive sequences. They make "how many messages at
// or after seq" (consumer num_pending with no filter) cost O(blocks after seq) plus one partial
// block instead of a scan of the stream, and let scans skip empty blocks.
// Sequences only grow, so blocks are appended at the tail; empty leading blocks are dropped.

export const BLOCK_SHIFT = 10;
export const BLOCK_SIZE = 1 << BLOCK_SHIFT;

export function blockOf(seq: number): number {
  return Math.floor(seq / BLOCK_SIZE);
}

export class SeqBlocks {
  /** Block number of counts[head]. */
  private base = 0;
  private counts: number[] = [];
  private head = 0;
  private total = 0;

  get size(): number {
    return this.total;
  }

  clear(): void {
    this.base = 0;
    this.counts = [];
    this.head = 0;
    this.total = 0;
  }

  add(seq: number, n = 1): void {
    const b = blockOf(seq);
    if (this.counts.length === this.head) {
      this.counts = [];
      this.head = 0;
      this.base = b;
    }
    if (b < this.base) {
      // Only bulk rebuilds insert out of order; grow at the front.
      const pad = this.base - b;
      const fill: number[] = new Array(pad).fill(0);
      this.counts = fill.concat(this.counts.slice(this.head));
      this.head = 0;
      this.base = b;
    }
    const i = this.head + (b - this.base);
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i]! += n;
    this.total += n;
  }

  remove(seq: number, n = 1): void {
    const i = this.head + (blockOf(seq) - this.base);
    if (i < this.head || i >= this.counts.length) return;
    this.counts[i]! -= n;
    this.total -= n;
    if (i === this.head) this.trimHead();
  }

  /** Live count of block b. */
  count(b: number): number {
    const i = this.head + (b - this.base);
    return i >= this.head && i < this.counts.length ? this.counts[i]! : 0;
  }

  /** Sum of the counts of blocks strictly after block b. */
  sumAfter(b: number): number {
    let start = this.head + (b - this.base) + 1;
    if (start < this.head) start = this.head;
    if (start >= this.counts.length) return 0;
    // Summing from whichever end is shorter keeps this cheap near both ends of a long stream.
    const n = this.counts.length;
    if (start - this.head < n - start) {
      let before = 0;
      for (let i = this.head; i < start; i++) before += this.counts[i]!;
      return this.total - before;
    }
    let s = 0;
    for (let i = start; i < n; i++) s += this.counts[i]!;
    return s;
  }

  /** Smallest block >= b with a live message, or -1. */
  nextNonEmpty(b: number): number {
    let i = this.head + (b - this.base);
    if (i < this.head) i = this.head;
    for (; i < this.counts.length; i++) if (this.counts[i]! > 0) return this.base + (i - this.head);
    return -1;
  }

  /** Largest block <= b with a live message, or -1. */
  prevNonEmpty(b: number): number {
    let i = this.head + (b - this.base);
    if (i >= this.counts.length) i = this.counts.length - 1;
    for (; i >= this.head; i--) if (this.counts[i]! > 0) return this.base + (i - this.head);
    return -1;
  }

  private trimHead(): void {
    while (this.head < this.counts.length && this.counts[this.head] === 0) {
      this.head++;
      this.base++;
    }
    if (this.head === this.counts.length) {
      this.counts = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.counts.length) {
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }
}
