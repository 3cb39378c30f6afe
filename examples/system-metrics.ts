// What the guide reads with psutil, from Node's own os and fs modules.
import { statfsSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";

let last = cpuTimes();

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { idle, total };
}

/** CPU busy % since the previous call. */
export function cpuPercent(): number {
  const now = cpuTimes();
  const total = now.total - last.total;
  const idle = now.idle - last.idle;
  last = now;
  return total > 0 ? round(100 * (1 - idle / total)) : 0;
}

export function memoryPercent(): number {
  return round(100 * (1 - freemem() / totalmem()));
}

export function diskPercent(path = "/"): number {
  const s = statfsSync(path);
  return round(100 * (1 - s.bavail / s.blocks));
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
