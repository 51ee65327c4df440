// One place that knows what must be undone, so an error or Ctrl-C never leaves
// a server listening or a temp dir full of blobs behind.
import { rmSync } from "node:fs";

type Undo = () => void;
const undos: Undo[] = [];
let installed = false;

/** Register a synchronous undo step; steps run last-in first-out. */
export function onCleanup(undo: Undo): void {
  install();
  undos.push(undo);
}

export function removeDirOnExit(dir: string): void {
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
}

/** Kill a process group we spawned (detached) by its id, never by name. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function runCleanup(): void {
  while (undos.length > 0) {
    const undo = undos.pop()!;
    try {
      undo();
    } catch (err) {
      console.error("cleanup step failed:", err);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runCleanup);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping servers and removing temp dirs`);
      runCleanup();
      process.exit(130);
    });
  }
}
