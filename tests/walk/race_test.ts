/**
 * The symlink-swap race: while a child process (tests/fixtures/swapper.ts)
 * swaps a directory `sw` (holding `mine`) and a symlink `swl` to a
 * directory outside the root (holding `marker`) with
 * renameat2(RENAME_EXCHANGE), walks that follow no link run over and over.
 * No entry under either name may ever come from outside: a walk that does
 * not follow links must never enter one, even one that appeared between
 * the listing and the open.  Errors from the race (the entry changed) are
 * allowed, with their path; nothing is thrown.
 *
 * Once with the two at depth 1 and `maxDepth: 2` (issue 16's case), once
 * three levels down on a queue of depth 2 (directories reopened by paths of
 * several components).  Each runs a few seconds, and until the walks have
 * seen both states of the names.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import {
  type IoqError,
  IoQueue,
  walk,
  type WalkEntry,
  type WalkOptions,
  walkSync,
} from "../../mod.ts";
import { makeTree, testBackends } from "../helpers.ts";
import { denoRun, fixture } from "../child.ts";
import { ORDERS } from "./support.ts";

/** How long each case races, at least, and at most (to see both states of the names). */
const RACE_MS = 2_000;
const RACE_MAX_MS = 20_000;

/** Errors a walk may report for an entry swapped under it. */
const RACE_ERRORS = ["ENOENT", "ENOTDIR", "ELOOP"];

/** A swapping child, started and stopped. */
class Swapper implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stop: string;
  readonly #out: ReadableStreamDefaultReader<Uint8Array>;
  #text = "";

  constructor(a: string, b: string, stop: string) {
    const [cmd, ...args] = denoRun(fixture("swapper.ts"), [a, b, stop]);
    this.#child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).spawn();
    this.#out = this.#child.stdout.getReader();
    this.#stop = stop;
  }

  /** Waits for the child's next line. */
  async line(): Promise<string> {
    const decoder = new TextDecoder();
    while (!this.#text.includes("\n")) {
      const { value, done } = await this.#out.read();
      if (done) throw new Error(`the swapper ended early: ${JSON.stringify(this.#text)}`);
      this.#text += decoder.decode(value);
    }
    const at = this.#text.indexOf("\n");
    const line = this.#text.slice(0, at);
    this.#text = this.#text.slice(at + 1);
    return line;
  }

  /** Asks the child to stop; returns how many swaps it made. */
  async stop(): Promise<number> {
    Deno.writeTextFileSync(this.#stop, "");
    const { swaps } = JSON.parse(await this.line());
    return swaps;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already ended
    }
    this.#out.releaseLock();
    await this.#child.stdout.cancel();
    await this.#child.status;
  }
}

/** What the walks saw. */
interface Seen {
  walks: number;
  /** Walks that saw `sw` as a directory, and as a symlink. */
  swDir: number;
  swLink: number;
  errors: number;
}

/** Checks one walk's entries and errors; counts what it saw. */
function check(entries: WalkEntry[], errors: [Error, string][], parent: string, seen: Seen) {
  const names = [`${parent}/sw`, `${parent}/swl`];
  for (const e of entries) {
    for (const name of names) {
      if (!e.path.startsWith(`${name}/`)) continue;
      assertEquals(e.path, `${name}/mine`, `${e.path}: an entry from outside, under ${name}`);
    }
    if (e.path === names[0]) e.isSymlink ? seen.swLink++ : seen.swDir++;
  }
  for (const [error, path] of errors) {
    const code = (error as IoqError).code;
    assert(names.includes(path) && RACE_ERRORS.includes(code), `${path}: ${error}`);
    seen.errors++;
  }
  seen.walks++;
}

/** [case, where sw and swl lie below the root's "in", options, the queue's depth]. */
const CASES: [string, string, WalkOptions, number][] = [
  ["at depth 1, maxDepth 2", "", { maxDepth: 2 }, 4096],
  ["three levels down, a queue of depth 2", "a/b/c", {}, 2],
];

testBackends(
  "walks that follow no link never enter one swapped in (symlink-swap race)",
  async (backend, t) => {
    for (const [name, below, options, depth] of CASES) {
      await t.step(name, async () => {
        const root = await makeTree([
          "outside/",
          "outside/marker",
          `in/${below}/sw/`,
          `in/${below}/sw/mine`,
        ]);
        const parent = below ? `${root}/in/${below}` : `${root}/in`;
        Deno.symlinkSync(`${root}/outside`, `${parent}/swl`);
        try {
          await using q = new IoQueue({ backend, depth });
          await using swapper = new Swapper(`${parent}/sw`, `${parent}/swl`, `${root}/stop`);
          assertEquals(await swapper.line(), "ready");
          const seen: Seen = { walks: 0, swDir: 0, swLink: 0, errors: 0 };
          const start = Date.now();
          for (let i = 0;; i++) {
            const elapsed = Date.now() - start;
            if (elapsed > RACE_MAX_MS || (elapsed > RACE_MS && seen.swDir && seen.swLink)) break;
            const errors: [Error, string][] = [];
            const opts: WalkOptions = {
              ...options,
              order: ORDERS[i % 2],
              stat: i % 4 >= 2,
              queue: q,
              onError: (error, path) => errors.push([error, path]),
            };
            const entries = i % 8 >= 4
              ? [...walkSync(`${root}/in`, opts)]
              : await Array.fromAsync(walk(`${root}/in`, opts));
            check(entries, errors, parent, seen);
          }
          const swaps = await swapper.stop();
          console.log(`${name} [${backend}]: ${swaps} swaps, ${JSON.stringify(seen)}`);
          assert(swaps > 0);
          assert(
            seen.swDir > 0 && seen.swLink > 0,
            `the walks saw both states: ${JSON.stringify(seen)}`,
          );
          assertEquals([q.inFlight, q.capacity], [0, q.depth]);
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      });
    }
  },
);
