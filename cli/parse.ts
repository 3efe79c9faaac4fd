/**
 * The command line, as GNU find reads it: leading options (`-H -L -P -O`,
 * `--`), starting points (every argument up to the first that looks like
 * an expression), then the expression, with find's precedence
 * (`( )` > `!` > `-a` > `-o` > `,`), its positional options (`-daystart`,
 * `-follow`) and its global ones, and the default `-print` added where find
 * adds it.
 *
 * @module
 */

import { deleteAction, ls, print, print0, printf } from "./actions.ts";
import {
  execArgs,
  numberArg,
  ownerArg,
  permArg,
  sizeArg,
  timeArg,
  typeArg,
  UsageError,
} from "./arguments.ts";
import type { FindStat } from "./entry.ts";
import { type Expr, primaries, type Primary } from "./expr.ts";
import { Glob } from "./glob.ts";
import { LsLayout } from "./ls.ts";
import * as p from "./predicates.ts";
import { FormatError, PrintfFormat } from "./printf.ts";
import type { Accounts } from "./users.ts";
import { R_OK, W_OK, X_OK } from "./users.ts";

export { UsageError };

/** What the walk is told by the command line's options. */
export interface Options {
  /** -P (never follow links), -H (the starting points only), -L (always). */
  follow: "P" | "H" | "L";
  maxDepth: number;
  minDepth: number;
  /** -depth or -delete: a directory after its contents. */
  postOrder: boolean;
  /** -xdev, -mount. */
  xdev: boolean;
  /** -s: each directory's entries sorted (and depth-first, find's order). */
  sorted: boolean;
  /** -dfs: depth-first (the default is breadth-first). */
  dfs: boolean;
  /** -gitignore: what ignore files (.gitignore, .ignore, .git/info/exclude) name is left out. */
  gitignore: boolean;
  /** -j N: worker threads. */
  threads: number | undefined;
  /** -backend. */
  backend: "auto" | "io_uring" | "threads";
  /** -count: print the number of entries the expression is true for, instead of printing them. */
  count: boolean;
  /** -ignore_readdir_race: an entry that vanished is no error. */
  ignoreRace: boolean;
}

/** A parsed command line. */
export interface Command {
  /** `help` and `version` print and exit; `walk` walks. */
  kind: "walk" | "help" | "version";
  roots: string[];
  expr: Expr;
  options: Options;
  /** Warnings find prints while parsing (a -printf escape it does not know). */
  warnings: string[];
}

/** What parsing needs from the outside. */
export interface ParseEnv {
  /** When the walk starts (for -mtime, -mmin, ...). */
  now: p.Instant;
  accounts: Accounts;
  /** Whether stdout is a terminal (-print then shows unprintable characters as `?`). */
  tty: boolean;
  /** Stats a reference file (-newer, -samefile); throws an OS error. */
  stat(path: string, follow: boolean): FindStat;
}

/** Whether an argument starts the expression (GNU's rule; `leading` for the starting points). */
function looksLikeExpression(arg: string, leading: boolean): boolean {
  if (arg.length > 1 && arg[0] === "-") return true;
  if (arg === "(" || arg === "!") return true;
  if (arg === ")" || arg === ",") return !leading;
  return false;
}

/** Parses a command line.  @throws {UsageError} */
export function parseCommand(argv: string[], env: ParseEnv): Command {
  return new Parser(argv, env).command();
}

/** Reads one command line. */
class Parser {
  readonly #argv: string[];
  readonly #env: ParseEnv;
  #i = 0;
  readonly #options: Options = {
    follow: "P",
    maxDepth: Infinity,
    minDepth: 0,
    postOrder: false,
    xdev: false,
    sorted: false,
    dfs: false,
    gitignore: false,
    threads: undefined,
    backend: "auto",
    count: false,
    ignoreRace: false,
  };
  readonly #warnings: string[] = [];
  /** -daystart seen (it applies to the time tests after it). */
  #daystart = false;
  /** An explicit -depth. */
  #depth = false;
  #kind: Command["kind"] = "walk";
  readonly #ls: LsLayout;

  constructor(argv: string[], env: ParseEnv) {
    this.#argv = argv;
    this.#env = env;
    this.#ls = new LsLayout(env.now.sec);
  }

  command(): Command {
    const argv = this.#argv;
    // Leading options
    for (; this.#i < argv.length; this.#i++) {
      const a = argv[this.#i];
      if (a === "-H" || a === "-L" || a === "-P") this.#options.follow = a[1] as "H" | "L" | "P";
      else if (/^-O\d*$/.test(a)) continue;
      else if (a === "-D") throw new UsageError("-D (debug options) is not supported");
      else if (a === "--") {
        this.#i++;
        break;
      } else break;
    }
    const roots: string[] = [];
    while (this.#i < argv.length && !looksLikeExpression(argv[this.#i], true)) {
      roots.push(argv[this.#i++]);
    }
    let expr: Expr | undefined;
    if (this.#i < argv.length) {
      expr = this.#comma();
      if (this.#i < argv.length) {
        // Only a ")" stops the top level early
        throw new UsageError("you have too many ')'");
      }
    }
    const all = expr ? primaries(expr) : [];
    if (this.#options.postOrder && !this.#depth && all.some((q) => q.name === "-prune")) {
      throw new UsageError(
        "The -delete action automatically turns on -depth, but -prune does nothing when -depth " +
          "is in effect.  If you want to carry on anyway, just explicitly use the -depth option.",
      );
    }
    const options = this.#options;
    if (!options.count && !all.some((q) => q.action)) {
      const printer = print(this.#env.tty);
      expr = expr ? { kind: "and", left: expr, right: leaf(printer) } : leaf(printer);
    }
    return {
      kind: this.#kind,
      roots: roots.length > 0 ? roots : ["."],
      expr: expr ?? leaf(p.constant("-true", true)),
      options,
      warnings: this.#warnings,
    };
  }

  /** The next argument, if any. */
  #peek(): string | undefined {
    return this.#argv[this.#i];
  }

  /** expr , expr */
  #comma(): Expr {
    let left = this.#or();
    while (this.#peek() === ",") {
      this.#i++;
      left = { kind: "comma", left, right: this.#operand(",", () => this.#or()) };
    }
    return left;
  }

  /** expr -o expr */
  #or(): Expr {
    let left = this.#and();
    while (this.#peek() === "-o" || this.#peek() === "-or") {
      const op = this.#argv[this.#i++];
      left = { kind: "or", left, right: this.#operand(op, () => this.#and()) };
    }
    return left;
  }

  /** expr [-a] expr */
  #and(): Expr {
    let left = this.#unary();
    while (true) {
      const next = this.#peek();
      if (next === undefined || next === ")" || next === "," || next === "-o" || next === "-or") {
        return left;
      }
      let op = "-a";
      if (next === "-a" || next === "-and") {
        op = next;
        this.#i++;
      }
      left = { kind: "and", left, right: this.#operand(op, () => this.#unary()) };
    }
  }

  /** The operand after an operator: there must be one. */
  #operand(op: string, parse: () => Expr): Expr {
    const next = this.#peek();
    if (next === undefined) throw new UsageError(`expected an expression after '${op}'`);
    if (next === ")") throw new UsageError(`expected an expression between '${op}' and ')'`);
    return parse();
  }

  /** ! expr, ( expr ), or a primary. */
  #unary(): Expr {
    const a = this.#peek()!;
    if (a === "!" || a === "-not") {
      this.#i++;
      return { kind: "not", operand: this.#operand(a, () => this.#unary()) };
    }
    if (a === "(") {
      this.#i++;
      if (this.#peek() === ")") {
        throw new UsageError("invalid expression; empty parentheses are not allowed.");
      }
      if (this.#peek() === undefined) {
        throw new UsageError(
          "invalid expression; I was expecting to find a ')' somewhere but did not see one.",
        );
      }
      const inner = this.#comma();
      if (this.#peek() !== ")") {
        throw new UsageError(
          "invalid expression; I was expecting to find a ')' somewhere but did not see one.",
        );
      }
      this.#i++;
      return inner;
    }
    if (a === "-a" || a === "-and" || a === "-o" || a === "-or" || a === ",") {
      throw new UsageError(
        `invalid expression; you have used a binary operator '${a}' with nothing before it.`,
      );
    }
    if (a === ")") throw new UsageError("you have too many ')'");
    if (!looksLikeExpression(a, false)) {
      throw new UsageError(`paths must precede expression: \`${a}'`);
    }
    this.#i++;
    return leaf(this.#primary(a));
  }

  /** The argument of a primary.  @throws {UsageError} When there is none. */
  #arg(name: string): string {
    const a = this.#argv[this.#i];
    if (a === undefined) throw new UsageError(`missing argument to \`${name}'`);
    this.#i++;
    return a;
  }

  /** Parses one primary (the name is consumed). */
  #primary(name: string): Primary {
    const o = this.#options;
    const option = () => p.constant(name, true);
    switch (name) {
      // Options: true where they stand, global in effect
      case "-depth":
      case "-d":
        o.postOrder = this.#depth = true;
        return option();
      case "-maxdepth":
      case "-mindepth": {
        const v = this.#arg(name);
        if (!/^\d+$/.test(v)) {
          throw new UsageError(
            `Expected a positive decimal integer argument to ${name}, but got '${v}'`,
          );
        }
        if (name === "-maxdepth") o.maxDepth = Number(v);
        else o.minDepth = Number(v);
        return option();
      }
      case "-xdev":
      case "-mount":
        o.xdev = true;
        return option();
      case "-noleaf":
      case "-warn":
      case "-nowarn":
      case "-noignore_readdir_race":
        if (name === "-noignore_readdir_race") o.ignoreRace = false;
        return option();
      case "-ignore_readdir_race":
        o.ignoreRace = true;
        return option();
      case "-daystart":
        this.#daystart = true;
        return option();
      case "-follow":
        o.follow = "L";
        return option();
      case "-s":
        o.sorted = true;
        return option();
      case "-dfs":
        o.dfs = true;
        return option();
      case "-gitignore":
        o.gitignore = true;
        return option();
      case "-count":
        o.count = true;
        return option();
      case "-j": {
        const v = this.#arg(name);
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) {
          throw new UsageError(`-j takes a number of threads from 1 to 1024, not '${v}'`);
        }
        o.threads = Number(v);
        return option();
      }
      case "-backend": {
        const v = this.#arg(name);
        if (v !== "auto" && v !== "io_uring" && v !== "threads") {
          throw new UsageError(`-backend takes auto, io_uring or threads, not '${v}'`);
        }
        o.backend = v;
        return option();
      }
      case "-help":
      case "--help":
      case "-h":
        this.#kind = "help";
        return option();
      case "-version":
      case "--version":
        this.#kind = "version";
        return option();
      // Tests
      case "-true":
      case "-false":
        return p.constant(name, name === "-true");
      case "-name":
      case "-iname":
        return p.nameTest(name, new Glob(this.#arg(name), name === "-iname"));
      case "-path":
      case "-wholename":
      case "-ipath":
      case "-iwholename":
        return p.pathTest(name, new Glob(this.#arg(name), name[1] === "i"));
      case "-lname":
      case "-ilname":
        return p.linkNameTest(name, new Glob(this.#arg(name), name === "-ilname"));
      case "-type":
      case "-xtype":
        return typeArg(name, this.#arg(name));
      case "-empty":
        return p.emptyTest();
      case "-links":
        return p.numberTest(name, "nlink", numberArg(name, this.#arg(name)));
      case "-inum":
        return p.numberTest(name, "ino", numberArg(name, this.#arg(name)));
      case "-uid":
        return p.numberTest(name, "uid", numberArg(name, this.#arg(name)));
      case "-gid":
        return p.numberTest(name, "gid", numberArg(name, this.#arg(name)));
      case "-user":
      case "-group":
        return ownerArg(name, this.#arg(name), this.#env.accounts);
      case "-nouser":
        return p.orphanTest(name, "uid");
      case "-nogroup":
        return p.orphanTest(name, "gid");
      case "-size":
        return sizeArg(this.#arg(name));
      case "-perm":
        return permArg(this.#arg(name), this.#warnings);
      case "-mtime":
      case "-atime":
      case "-ctime":
      case "-mmin":
      case "-amin":
      case "-cmin":
        return timeArg(name, this.#arg(name), this.#env.now, this.#daystart);
      case "-newer":
      case "-anewer":
      case "-cnewer":
        return this.#newer(name, name === "-newer" ? "m" : name[1] as p.TimeField, "m");
      case "-samefile": {
        const s = this.#reference(this.#arg(name));
        return p.sameFileTest(s.dev, s.ino);
      }
      case "-readable":
        return p.accessTest(name, R_OK);
      case "-writable":
        return p.accessTest(name, W_OK);
      case "-executable":
        return p.accessTest(name, X_OK);
      case "-prune":
        return p.prune();
      case "-quit":
        return p.quit();
      // Actions
      case "-print":
        return print(this.#env.tty);
      case "-print0":
        return print0();
      case "-printf":
        return this.#printf();
      case "-ls":
        return ls(this.#ls);
      case "-delete":
        o.postOrder = true;
        return deleteAction(o.ignoreRace);
      case "-exec":
      case "-execdir":
      case "-ok":
      case "-okdir": {
        const [primary, next] = execArgs(name, this.#argv, this.#i);
        this.#i = next;
        return primary;
      }
    }
    const newer = name.match(/^-newer([aBcmt])([aBcmt])$/);
    if (newer) {
      if (newer[1] === "t") throw new UsageError(`invalid predicate \`${name}'`);
      if (newer[1] === "B" || newer[2] === "B" || newer[2] === "t") {
        throw new UsageError(`${name} is not supported (birth times and dates are not read)`);
      }
      return this.#newer(name, newer[1] as p.TimeField, newer[2] as p.TimeField);
    }
    if (UNSUPPORTED.has(name)) throw new UsageError(`${name} is not supported`);
    throw new UsageError(`unknown predicate \`${name}'`);
  }

  /** Stats a reference file (following links under -H and -L).  @throws {UsageError} */
  #reference(path: string): FindStat {
    try {
      return this.#env.stat(path, this.#options.follow !== "P");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const at = message.indexOf(" (os error");
      throw new UsageError(`'${path}': ${at > 0 ? message.slice(0, at) : message}`);
    }
  }

  /** -newer FILE and kin: `field` of the entry later than `refField` of FILE. */
  #newer(name: string, field: p.TimeField, refField: p.TimeField): Primary {
    const s = this.#reference(this.#arg(name));
    const [sec, nsec] = p.timeOf(s, refField);
    return p.newerTest(name, field, { sec, nsec });
  }

  /** -printf FORMAT. */
  #printf(): Primary {
    const v = this.#arg("-printf");
    try {
      const format = new PrintfFormat(v);
      this.#warnings.push(...format.warnings);
      return printf(format);
    } catch (error) {
      if (error instanceof FormatError) throw new UsageError(error.message);
      throw error;
    }
  }
}

/** Predicates of GNU find this CLI does not implement. */
const UNSUPPORTED = new Set([
  "-regex",
  "-iregex",
  "-regextype",
  "-fstype",
  "-context",
  "-fls",
  "-fprint",
  "-fprint0",
  "-fprintf",
  "-used",
  "-files0-from",
]);

/** Wraps a primary as a leaf of the tree. */
function leaf(primary: Primary): Expr {
  return { kind: "primary", primary };
}
