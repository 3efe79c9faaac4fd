/**
 * The expression tree of a command line and its evaluation on `FindEntry`s:
 * operators, the evaluation context primaries share, what the expression
 * needs the walk to fetch, and the part of it simple enough for the walk to
 * evaluate by itself (`FastPlan`).
 *
 * @module
 */

import type { FastPlan, FindEntry, Needs } from "./entry.ts";

export type { FastPlan, Needs };
import type { Glob } from "./glob.ts";
import type { Output } from "./output.ts";
import type { Accounts, Identity } from "./users.ts";

/** An empty Needs. */
export function noNeeds(): Needs {
  return {
    stat: false,
    types: false,
    xstat: false,
    linkTarget: false,
    empty: false,
    followed: false,
  };
}

/** What evaluation shares: output, status, and what the walk is to do next. */
export interface EvalContext {
  readonly out: Output;
  readonly accounts: Accounts;
  readonly identity: Identity;
  /** -L: links are followed (for -xtype, -readable and friends). */
  readonly following: boolean;
  /** -depth (or -delete): a directory is evaluated after its contents, and -prune does nothing. */
  readonly postOrder: boolean;
  /** Set by -prune: do not descend into the entry. */
  prune: boolean;
  /** Set by -quit: stop the walk. */
  quit: boolean;
  /** The exit status so far: 1 once an error was reported. */
  status: number;
  /**
   * Reports an error about an entry (one line on stderr: `walk: [what ]'path':
   * reason`) and sets the status to 1.
   */
  report(path: Uint8Array, reason: string, what?: string): void;
  /** Reports an error not about an entry. */
  warn(message: string): void;
  /** Reports (once per entry) that an entry could not be stat'ed; returns false. */
  missing(entry: FindEntry): false;
}

/** A test or action: one node of the expression with no operands. */
export interface Primary {
  /** As on the command line, e.g. `"-name"`. */
  readonly name: string;
  /** An action other than -prune and -quit: its presence turns off the default -print. */
  readonly action?: boolean;
  /** What it needs fetched. */
  readonly needs?: Partial<Needs>;
  /**
   * It needs the entry's stat even if the walk need not fetch it for every
   * entry (find stats for it): false, with the stat error reported, for an
   * entry that could not be stat'ed.  Implied by `needs.stat`.
   */
  readonly wantsStat?: boolean;
  /** Evaluates it on an entry. */
  test(entry: FindEntry, ctx: EvalContext): boolean;
  /** Runs what is pending at the end of the walk (`-exec ... +`). */
  finish?(ctx: EvalContext): void;
}

/** A node of the expression. */
export type Expr =
  | { kind: "and" | "or" | "comma"; left: Expr; right: Expr }
  | { kind: "not"; operand: Expr }
  | { kind: "primary"; primary: Primary };

/** An evaluator compiled from an expression. */
export type Evaluate = (entry: FindEntry, ctx: EvalContext) => boolean;

/** Compiles an expression into nested closures (faster than walking the tree per entry). */
export function compile(expr: Expr): Evaluate {
  switch (expr.kind) {
    case "and": {
      const l = compile(expr.left);
      const r = compile(expr.right);
      return (e, ctx) => l(e, ctx) && !ctx.quit && r(e, ctx);
    }
    case "or": {
      const l = compile(expr.left);
      const r = compile(expr.right);
      return (e, ctx) => l(e, ctx) || (!ctx.quit && r(e, ctx));
    }
    case "comma": {
      const l = compile(expr.left);
      const r = compile(expr.right);
      return (e, ctx) => {
        l(e, ctx);
        return !ctx.quit && r(e, ctx);
      };
    }
    case "not": {
      const o = compile(expr.operand);
      return (e, ctx) => !o(e, ctx);
    }
    case "primary": {
      const p = expr.primary;
      if (!p.wantsStat && !p.needs?.stat) return (e, ctx) => p.test(e, ctx);
      return (e, ctx) => e.error && !e.stat ? ctx.missing(e) : p.test(e, ctx);
    }
  }
}

/** Every primary of an expression, left to right. */
export function primaries(expr: Expr): Primary[] {
  const out: Primary[] = [];
  const visit = (e: Expr) => {
    if (e.kind === "primary") out.push(e.primary);
    else if (e.kind === "not") visit(e.operand);
    else {
      visit(e.left);
      visit(e.right);
    }
  };
  visit(expr);
  return out;
}

/** What the expression needs fetched for every entry. */
export function needsOf(expr: Expr): Needs {
  const needs = noNeeds();
  for (const p of primaries(expr)) {
    for (const [key, value] of Object.entries(p.needs ?? {})) {
      if (value) needs[key as keyof Needs] = true;
    }
  }
  return needs;
}

/** A primary the fast path understands. */
export interface FastPrimary extends Primary {
  /** What it contributes to a FastPlan: a name pattern, a type mask, an action, or nothing (an option). */
  readonly fast: { glob: Glob } | { types: number } | { action: "print" | "print0" } | {
    none: true;
  };
}

function isFast(p: Primary): p is FastPrimary {
  return (p as FastPrimary).fast !== undefined;
}

/**
 * The FastPlan of an expression, if it has one: an and-chain of name and
 * type tests and options ending in -print or -print0 (or, when counting,
 * with no action at all).
 */
export function fastPlanOf(expr: Expr, counting: boolean): FastPlan | undefined {
  const chain: Primary[] = [];
  const flatten = (e: Expr): boolean => {
    if (e.kind === "and") return flatten(e.left) && flatten(e.right);
    if (e.kind !== "primary") return false;
    chain.push(e.primary);
    return true;
  };
  if (!flatten(expr)) return undefined;
  const plan: FastPlan = { names: [], types: undefined, action: "count" };
  for (let i = 0; i < chain.length; i++) {
    const p = chain[i];
    if (!isFast(p)) return undefined;
    const f = p.fast;
    if ("glob" in f) plan.names.push(f.glob);
    else if ("types" in f) plan.types = (plan.types ?? ~0) & f.types;
    else if ("action" in f) {
      // Only as the last element, and only one
      if (i !== chain.length - 1 || counting) return undefined;
      plan.action = f.action;
    }
  }
  if (!counting && plan.action === "count") return undefined;
  return plan;
}
