// Process figures for /varz and /metrics: resident memory and CPU percent. nats-server samples
// /proc once a second and reports CPU over that window; this samples on demand with the same
// one-second window, so polling faster than once a second sees the same value.

import { availableParallelism } from "node:os";

const WINDOW_MS = 1000;

export class ProcessStats {
  readonly cores = availableParallelism();
  private lastWall = performance.now();
  private lastCpu = process.cpuUsage();
  private pcpu = 0;

  /** CPU use over the last window, in percent of one core, rounded to 0.1 as nats-server does. */
  cpu(): number {
    const now = performance.now();
    const elapsed = now - this.lastWall;
    if (elapsed >= WINDOW_MS) {
      const cpu = process.cpuUsage();
      const usedMs = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
      this.pcpu = Math.round((usedMs / elapsed) * 1000) / 10;
      this.lastWall = now;
      this.lastCpu = cpu;
    }
    return this.pcpu;
  }

  /** Resident set size in bytes. */
  rss(): number {
    return process.memoryUsage.rss();
  }
}
