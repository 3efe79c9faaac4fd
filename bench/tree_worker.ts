/**
 * A worker of the tree generator (bench/tree.ts): rebuilds the tree's plan
 * from its parameters and creates its share of it, the directories of one
 * level at a time (`mkdir`) or the files and symlinks of its directories
 * (`fill`), reporting progress to the main thread.
 *
 * Files are created with `Deno.openSync(path, { createNew: true, write: true
 * }).close()`.  Measured here (10 alternating rounds of 300 files each):
 * that, `{ create: true }`, `Deno.writeFileSync(path, empty)` and a 1-byte
 * `writeFileSync` all cost 125-127 µs per file: the time is the kernel's
 * (ext4 inode allocation), so the generator gains by running several
 * workers, not by the choice of call.  `createNew` also fails loudly on a
 * leftover file.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { dirEntryNames, planTree, type TreeParams, type TreePlan } from "./tree_plan.ts";

/** A message from the main thread. */
export type WorkerRequest =
  | { type: "init"; params: TreeParams; root: string; index: number; workers: number }
  | { type: "mkdir"; level: number }
  | { type: "fill" };

/** A message to the main thread. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "progress"; created: number }
  | { type: "done"; created: number }
  | { type: "error"; message: string };

/** Entries created between two progress reports. */
const REPORT_EVERY = 1000;

let plan: TreePlan | undefined;
let root = "";
let index = 0;
let workers = 1;

/** Sends a reply to the main thread. */
function reply(message: WorkerReply): void {
  self.postMessage(message);
}

/** The absolute path of directory `d`. */
function dirPath(d: number): string {
  const rel = plan!.dirPath[d];
  return rel ? `${root}/${rel}` : root;
}

/** Creates this worker's directories at depth `level`. */
function mkdirLevel(level: number): number {
  let created = 0;
  for (let d = index; d < plan!.dirs; d += workers) {
    if (plan!.depth[d] !== level) continue;
    Deno.mkdirSync(dirPath(d));
    created++;
  }
  return created;
}

/** Creates the files and symlinks of this worker's directories. */
function fill(): number {
  let created = 0;
  let reported = 0;
  for (let d = index; d < plan!.dirs; d += workers) {
    const names = dirEntryNames(plan!, d);
    const base = dirPath(d);
    for (const name of names.files) {
      Deno.openSync(`${base}/${name}`, { createNew: true, write: true }).close();
      created++;
    }
    const links = plan!.links.get(d) ?? [];
    names.links.forEach((name, i) => {
      Deno.symlinkSync(links[i].target, `${base}/${name}`);
      created++;
    });
    if (created - reported >= REPORT_EVERY) {
      reply({ type: "progress", created: created - reported });
      reported = created;
    }
  }
  return created - reported;
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const msg = event.data;
  try {
    switch (msg.type) {
      case "init":
        plan = planTree(msg.params);
        root = msg.root;
        index = msg.index;
        workers = msg.workers;
        reply({ type: "ready" });
        break;
      case "mkdir":
        reply({ type: "done", created: mkdirLevel(msg.level) });
        break;
      case "fill":
        reply({ type: "done", created: fill() });
        break;
    }
  } catch (error) {
    reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
