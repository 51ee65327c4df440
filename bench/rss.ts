// Memory of the process that actually serves: with `npx tsx` the spawned pid is
// a wrapper, so find the descendant that owns the listening socket.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Memory {
  rssKiB: number;
  hwmKiB: number;
}

/** Socket inodes listening on 127.0.0.1:port (or any address on that port). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === "0A") inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** `root` and every process below it, parents before children. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // ppid is the 2nd field after the parenthesised command name
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export function listeningPid(rootPid: number, port: number): number | undefined {
  const inodes = listeningInodes(port);
  for (const pid of descendants(rootPid)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

function ownMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
}

/** Memory of `pids` together (a process that supervises workers, and its workers). */
function sumMemory(pids: number[]): Memory {
  let rssKiB = 0;
  let hwmKiB = 0;
  for (const [i, pid] of pids.entries()) {
    try {
      const own = ownMemory(pid);
      rssKiB += own.rssKiB;
      hwmKiB += own.hwmKiB;
    } catch (error) {
      if (i === 0) throw error; // the process itself is gone; a child gone meanwhile counts nothing
    }
  }
  return { rssKiB, hwmKiB };
}

/** Memory of a process and its descendants: for Berth with --workers, the whole deployment. */
export function readMemory(pid: number): Memory {
  return sumMemory(descendants(pid));
}

/** Run work while sampling the RSS of `pid` and its children every intervalMs; returns the highest sample. */
export async function samplePeakRss<T>(pid: number, work: () => Promise<T>, intervalMs = 20): Promise<{ result: T; peakKiB: number }> {
  // The process tree is read once: scanning /proc on every sample would cost the run CPU.
  const pids = descendants(pid);
  let peakKiB = sumMemory(pids).rssKiB;
  const timer = setInterval(() => {
    try {
      peakKiB = Math.max(peakKiB, sumMemory(pids).rssKiB);
    } catch {
      // process gone: the work will fail and say why
    }
  }, intervalMs);
  try {
    const result = await work();
    peakKiB = Math.max(peakKiB, sumMemory(pids).rssKiB);
    return { result, peakKiB };
  } finally {
    clearInterval(timer);
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}
