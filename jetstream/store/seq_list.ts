// Ascending list of sequence numbers for one subject in the memory store. Appends are always at
// the tail (sequences only grow) and most removals are at the head (limits, expiry), so both are
// O(1) amortised; interior removals and rank queries use binary search.

const COMPACT_AT = 1024;

export class SeqList {
  private a: number[] = [];
  private h = 0;

  get size(): number {
    return this.a.length - this.h;
  }

  push(seq: number): void {
    this.a.push(seq);
  }

  first(): number {
    return this.h < this.a.length ? this.a[this.h]! : 0;
  }

  last(): number {
    return this.h < this.a.length ? this.a[this.a.length - 1]! : 0;
  }

  /** Index (absolute) of the first element >= seq. */
  private lowerBound(seq: number): number {
    let lo = this.h;
    let hi = this.a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.a[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  remove(seq: number): boolean {
    if (this.h < this.a.length && this.a[this.h] === seq) {
      this.h++;
      if (this.h === this.a.length) {
        this.a = [];
        this.h = 0;
      } else if (this.h >= COMPACT_AT && this.h * 2 >= this.a.length) {
        this.a = this.a.slice(this.h);
        this.h = 0;
      }
      return true;
    }
    const i = this.lowerBound(seq);
    if (i >= this.a.length || this.a[i] !== seq) return false;
    this.a.splice(i, 1);
    return true;
  }

  /** Number of elements >= seq. */
  countFrom(seq: number): number {
    return this.a.length - this.lowerBound(seq);
  }

  /** First element >= seq, or 0. */
  nextFrom(seq: number): number {
    const i = this.lowerBound(seq);
    return i < this.a.length ? this.a[i]! : 0;
  }

  /** Last element <= seq, or 0. */
  prevFrom(seq: number): number {
    const i = this.lowerBound(seq + 1) - 1;
    return i >= this.h ? this.a[i]! : 0;
  }

  /** The k-th element (0-based from the head). */
  at(k: number): number {
    return this.a[this.h + k]!;
  }
}
