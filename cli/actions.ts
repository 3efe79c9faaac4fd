/**
 * The actions that write or change something: `-print`, `-print0`,
 * `-printf`, `-ls`, `-delete`.  (`-exec` and its kin are in exec.ts.)
 *
 * @module
 */

import { DT, type FindEntry } from "./entry.ts";
import type { EvalContext, FastPrimary, Primary } from "./expr.ts";
import { runBytes } from "./exec.ts";
import type { LsLayout } from "./ls.ts";
import type { PrintfFormat } from "./printf.ts";
import { typeOf } from "./predicates.ts";
import { reasonOf } from "./output.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A path as find shows it on a terminal: every character that is not
 * printable (controls, bytes that are not UTF-8) as `?`.  Not applied when
 * stdout is a pipe or a file.
 */
export function forTerminal(path: Uint8Array): Uint8Array {
  let clean = true;
  for (const b of path) {
    if (b < 0x20 || b === 0x7f || b >= 0x80) {
      clean = false;
      break;
    }
  }
  if (clean) return path;
  const out: number[] = [];
  let i = 0;
  while (i < path.length) {
    const b = path[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    let ch: string | undefined;
    if (len > 0 && i + len <= path.length) {
      try {
        ch = decoder.decode(path.subarray(i, i + len));
      } catch {
        ch = undefined;
      }
    }
    const cp = ch?.codePointAt(0);
    if (cp === undefined || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      out.push(0x3f);
      i += ch === undefined ? 1 : len;
    } else {
      for (let k = 0; k < len; k++) out.push(path[i + k]);
      i += len;
    }
  }
  return new Uint8Array(out);
}

/** -print: the path and a newline. */
export function print(tty: boolean): FastPrimary {
  return {
    name: "-print",
    action: true,
    fast: { action: "print" },
    test(e, ctx) {
      ctx.out.bytes(tty ? forTerminal(e.path) : e.path);
      ctx.out.byte(0x0a);
      return true;
    },
  };
}

/** -print0: the path and a NUL byte. */
export function print0(): FastPrimary {
  return {
    name: "-print0",
    action: true,
    fast: { action: "print0" },
    test(e, ctx) {
      ctx.out.bytes(e.path);
      ctx.out.byte(0);
      return true;
    },
  };
}

/** -printf FORMAT. */
export function printf(format: PrintfFormat): Primary {
  return {
    name: "-printf",
    action: true,
    needs: format.needs,
    test(e, ctx) {
      format.render(e, ctx);
      return true;
    },
  };
}

/** -ls. */
export function ls(layout: LsLayout): Primary {
  return {
    name: "-ls",
    action: true,
    needs: { stat: true, linkTarget: true, types: true },
    test(e, ctx) {
      layout.write(e, ctx);
      return true;
    },
  };
}

/** Whether bytes are UTF-8, with their text. */
function text(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * -delete: removes a file or an empty directory (never the starting point
 * `.`).  A failure is reported ("cannot delete") and makes the action false
 * and the exit status 1; with -ignore_readdir_race, a file already gone is
 * no failure.
 */
export function deleteAction(ignoreRace: boolean): Primary {
  return {
    name: "-delete",
    action: true,
    needs: { types: true },
    test(e: FindEntry, ctx: EvalContext) {
      if (e.path.length === 1 && e.path[0] === 0x2e) return true;
      const path = text(e.path);
      let reason: string | undefined;
      let gone = false;
      if (path !== undefined) {
        try {
          Deno.removeSync(path);
        } catch (error) {
          gone = error instanceof Deno.errors.NotFound;
          reason = reasonOf(error);
        }
      } else {
        // Deno takes only UTF-8 paths: rmdir(1) or unlink(1) take bytes
        const tool = typeOf(e) === DT.DIR ? "rmdir" : "unlink";
        const result = runBytes([new TextEncoder().encode(tool), e.path], undefined, true);
        if (result.code !== 0) {
          const said = new TextDecoder().decode(result.stderr ?? new Uint8Array()).trim();
          reason = result.error ?? (said.slice(said.lastIndexOf(": ") + 2) || "failed");
          gone = reason === "No such file or directory";
        }
      }
      if (reason === undefined || (gone && ignoreRace)) return true;
      ctx.report(e.path, reason, "cannot delete");
      return false;
    },
  };
}
