/**
 * Glob matching (csrc/fnm.c) held to its two models, through the test hook
 * `ioq_test_fnm_match` (compile, match once, free):
 *
 *  - glob()'s dialect against the regular expression @std/path's
 *    globToRegExp builds, on random segment patterns and names, extended or
 *    not, case-insensitive or not; a pattern it cannot compile must be
 *    rejected;
 *  - the case folding table against JavaScript's /iu, around every code
 *    point that has a case partner;
 *  - find's dialect against GNU find itself (-name, -iname, -path) on a
 *    directory of odd names.
 *
 * The seed is $IOQ_TEST_SEED, or random; it is printed.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { ffi, LOCAL_LIBRARY } from "../lib/ffi.ts";
import { randomBelow, testSeed } from "./helpers.ts";
import { bytes, createRaw } from "./libc.ts";

/** fnm_compile()'s flags (enum fnm_flags in csrc/fnm.h). */
const ICASE = 1;
const GLOB = 4;
const EXTGLOB = 8;

/** -EINVAL, fnm_compile()'s answer to a pattern it rejects. */
const EINVAL = -22;

/** The test hook, from the library the queues use (test symbols stay out of lib/ffi.ts). */
ffi();
const hook = Deno.dlopen(Deno.env.get("IOQ_LIBRARY") || LOCAL_LIBRARY, {
  ioq_test_fnm_match: {
    parameters: ["buffer", "u32", "u32", "buffer", "u32"],
    result: "i32",
  },
});

const encoder = new TextEncoder();

/** 1 if `name` matches `pattern`, 0 if not, or fnm_compile()'s negative errno. */
function fnmMatch(pattern: string | Uint8Array, flags: number, name: string | Uint8Array): number {
  const p = typeof pattern === "string" ? encoder.encode(pattern) : pattern;
  const n = typeof name === "string" ? encoder.encode(name) : name;
  return hook.symbols.ioq_test_fnm_match(p, p.length, flags, n, n.length);
}

/** The seed: $IOQ_TEST_SEED, or random (printed). */
const SEED = testSeed("fnm_test");

/**
 * globToRegExp, from the std sources next to this checkout (its posix
 * module, the one `@std/path` picks on Linux, which needs no import map),
 * or from JSR.
 */
async function loadGlobToRegExp(): Promise<
  (
    glob: string,
    options: { extended: boolean; globstar: boolean; caseInsensitive: boolean },
  ) => RegExp
> {
  const local = new URL("../../shared/reference/std/path/posix/glob_to_regexp.ts", import.meta.url);
  let specifier = "jsr:@std/path@^1/glob-to-regexp";
  try {
    Deno.statSync(local);
    specifier = local.href;
  } catch {
    // Not next to this checkout: JSR it is
  }
  return (await import(specifier)).globToRegExp;
}

/** Pattern tokens for glob(): its syntax, characters either dialect folds alike, classes. */
// deno-fmt-ignore
const GLOB_TOKENS = [
  "*", "?", "[", "]", "!", "^", "-", "\\", "{", "}", ",", "(", ")", "|", "@", "+", ".", ":",
  "a", "b", "A", "z", "é", "É", "\n", "*(", "?(", "+(", "@(", "!(", "[:alpha:]", "[:punct:]",
  "[:space:]", "[:upper:]", "[:word:]", "[:digit:]", "[:foo:]", "[!", "{a,b}", "c-a", "[c-a]",
];

/** Name tokens: no `/` (a segment), no astral characters (one code point here, two units there). */
// deno-fmt-ignore
const NAME_TOKENS = [
  "a", "b", "A", "B", "z", "é", "É", ".", "-", "[", "]", "!", "^", "\\", "(", ")", "{", "}",
  ",", "|", "@", "+", ":", "\n", "\r", " ", "1", "_", "‘", "`", "\u00a0", "\u2028",
];

/**
 * A name for a pattern: random tokens, or the pattern with its wildcards
 * filled in and the first alternative of each group kept, so that some
 * names match.
 */
function makeName(pattern: string, random: (n: number) => number): string {
  const token = () => NAME_TOKENS[random(NAME_TOKENS.length)];
  let name = "";
  if (random(2) === 0) {
    for (let i = random(6); i > 0; i--) name += token();
    return name;
  }
  // Group depth, and the depth whose other alternatives are being skipped
  let depth = 0, skip = 0;
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if ("?*+@!".includes(c) && chars[i + 1] === "(") continue;
    if (c === "(" || c === "{") depth++;
    if (c === ")" || c === "}") {
      if (depth === skip) skip = 0;
      depth = Math.max(0, depth - 1);
      continue;
    }
    if ((c === "|" || c === ",") && depth > 0 && skip === 0) skip = depth;
    if (skip > 0 || "(|{,".includes(c)) continue;
    if (c === "\\") {
      name += chars[++i] ?? "";
    } else if (c === "[") {
      // One character for the bracket, whatever it holds
      name += token();
      const close = chars.indexOf("]", i + 2);
      if (close > 0) i = close;
    } else if (c === "*") {
      for (let k = random(3); k > 0; k--) name += token();
    } else if (c === "?") {
      name += token();
    } else {
      name += c;
    }
  }
  return name;
}

Deno.test("fnm: glob() segments match as globToRegExp's regular expressions do", async () => {
  const globToRegExp = await loadGlobToRegExp();
  const random = randomBelow(SEED);
  let cases = 0, matches = 0, rejected = 0;
  for (let i = 0; i < 10_000; i++) {
    let pattern = "";
    for (let t = 1 + random(8); t > 0; t--) pattern += GLOB_TOKENS[random(GLOB_TOKENS.length)];
    const extended = random(4) !== 0;
    const caseInsensitive = random(3) === 0;
    const flags = GLOB | (extended ? EXTGLOB : 0) | (caseInsensitive ? ICASE : 0);
    const what = `${
      JSON.stringify(pattern)
    } (extended: ${extended}, caseInsensitive: ${caseInsensitive})`;
    let regexp: RegExp;
    try {
      regexp = globToRegExp(pattern, { extended, globstar: true, caseInsensitive });
    } catch (error) {
      assert(error instanceof SyntaxError, `${what}: globToRegExp threw ${error}`);
      assertEquals(fnmMatch(pattern, flags, "a"), EINVAL, `${what}: accepted, globToRegExp throws`);
      rejected++;
      continue;
    }
    for (let k = 0; k < 6; k++) {
      const name = makeName(pattern, random);
      const want = regexp.test(name) ? 1 : 0;
      const got = fnmMatch(pattern, flags, name);
      assertEquals(got, want, `${what} against ${JSON.stringify(name)}: ${regexp}`);
      cases++;
      matches += want;
    }
  }
  console.error(
    `  ${cases} names agree (${matches} matches), ${rejected} patterns rejected by both`,
  );
});

Deno.test("fnm: case folding agrees with JavaScript's /iu around every cased code point", () => {
  const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|\/-]/g, "\\$&");
  const single = (s: string) => [...s].length === 1 ? s.codePointAt(0)! : undefined;
  const valid = (cp: number) => cp >= 0 && cp < 0x110000 && (cp < 0xd800 || cp > 0xdfff);
  let checked = 0;
  for (let cp = 0; cp < 0x110000; cp++) {
    if (!valid(cp)) continue;
    const s = String.fromCodePoint(cp);
    const partners = [single(s.toLowerCase()), single(s.toUpperCase())]
      .filter((p): p is number => p !== undefined && p !== cp);
    if (partners.length === 0) continue;
    // The partners, and the neighbours (runs of pairs alternate)
    for (const other of [...partners, cp - 2, cp - 1, cp + 1, cp + 2]) {
      if (!valid(other)) continue;
      const o = String.fromCodePoint(other);
      const want = new RegExp(`^${escape(s)}$`, "iu").test(o) && (cp < 0x80) === (other < 0x80);
      // Escaped, a character is literal in either dialect
      assertEquals(
        fnmMatch(`\\${s}`, ICASE, o),
        want ? 1 : 0,
        `U+${cp.toString(16)} against U+${other.toString(16)}`,
      );
      assertEquals(
        fnmMatch(`\\${o}`, ICASE | GLOB, s),
        want ? 1 : 0,
        `U+${other.toString(16)} against U+${cp.toString(16)}`,
      );
      checked++;
    }
  }
  console.error(`  ${checked} pairs agree`);
});

/** Whether GNU find and the C.UTF-8 locale are here; why not, if not. */
async function findSkip(): Promise<string | undefined> {
  try {
    const version = await new Deno.Command("find", { args: ["--version"], stdout: "piped" })
      .output();
    if (!new TextDecoder().decode(version.stdout).includes("GNU findutils")) {
      return "find is not GNU find";
    }
    const locales = await new Deno.Command("locale", { args: ["-a"], stdout: "piped" }).output();
    if (!/^C\.(utf8|UTF-8)$/m.test(new TextDecoder().decode(locales.stdout))) {
      return "no C.UTF-8 locale";
    }
  } catch (error) {
    return `cannot run find or locale: ${error}`;
  }
  return undefined;
}

const findReason = await findSkip();
if (findReason) console.error(`NOTE: the comparison with GNU find is ignored: ${findReason}`);

/** Odd names: classes, cases, brackets, escapes, dots, stray bytes (never next to UTF-8, see fnm.c). */
// deno-fmt-ignore
const FIND_NAMES: Uint8Array[] = [
  ...[
  "é", "É", "e", "E", ".hidden", "..x", "a[b", "a]b", "[x]", "-x", "back\\slash", "ab", "Ab", "x\ny",
  "tab\there", "中文", "€", "under_score", "UPPER", "upper", "x.c", "y.C", "*star", "?q", "ẞ", "ß",
  "Σ", "σ", "Ж", "ж", "é.txt", "ÉTÉ", "été", "1", "!bang", "^caret", "sp ace", "\u3000ideo",
  ].map((s) => encoder.encode(s)),
  bytes([0xff]), bytes("a", [0xff], "b"), bytes("x", [0x80]), bytes([0xfe, 0xff]),
];

/** -name and -iname patterns: flags 0 is -name, ICASE -iname. */
// deno-fmt-ignore
const FIND_PATTERNS: [string, number][] = [
  ["*", 0], ["?", 0], ["??", 0], ["???", 0], [".*", 0], ["[[:alpha:]]*", 0], ["[![:alpha:]]*", 0],
  ["[[:upper:]]*", 0], ["[[:lower:]]*", 0], ["[[:punct:]]*", 0], ["*[![:print:]]*", 0],
  ["*[[:space:]]*", 0], ["[[:digit:]]", 0], ["[a-z]*", 0], ["\\*star", 0], ["[]ab]*", 0], ["[!]]*", 0],
  ["*é*", 0], ["[é]", 0], ["?b", 0], ["*.[cC]", 0], ["*[\\]]*", 0], ["a[[]b", 0], ["[[]x]", 0],
  ["*\\\\*", 0], ["[a-", 0], ["[[:foo:]]*", 0], ["[a[:foo:]]*", 0], ["*[", 0], ["[!a-z]*", 0],
  ["É", ICASE], ["*.c", ICASE], ["[[:lower:]]*", ICASE], ["ẞ", ICASE], ["Σ", ICASE], ["upper", ICASE],
  ["ÉTÉ", ICASE], ["[A-Z]*", ICASE], ["*E*", ICASE], ["Ж", ICASE],
];

/** Hex of bytes, to compare names exactly. */
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Runs find; returns the hex of each path it prints. */
async function find(args: string[], locale: string): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command("find", {
    args: [...args, "-print0"],
    env: { LC_ALL: locale },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, `find ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  const out = new Set<string>();
  let start = 0;
  for (let i = 0; i < stdout.length; i++) {
    if (stdout[i] === 0) {
      out.add(hex(stdout.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

Deno.test({
  name: "fnm: find's dialect picks the names GNU find picks",
  ignore: findReason !== undefined,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ioq-fnm-" });
    try {
      const rootBytes = encoder.encode(root);
      for (const name of FIND_NAMES) createRaw(bytes(rootBytes, "/", name));
      const paths = FIND_NAMES.map((name) => bytes(rootBytes, "/", name));
      // glibc retries byte by byte a name that does not match by
      // characters (`??` matches `é`): find's answer must be ours, or the
      // one it gives in the C locale
      const compare = async (
        test: string,
        pattern: string,
        flags: number,
        subjects: Uint8Array[],
      ) => {
        const args = [root, "-mindepth", "1", "-maxdepth", "1", test, pattern];
        const utf8 = await find(args, "C.UTF-8");
        const c = await find(args, "C");
        for (let i = 0; i < paths.length; i++) {
          const path = hex(paths[i]);
          const ours = fnmMatch(pattern, flags, subjects[i]) === 1;
          assertEquals(
            utf8.has(path),
            ours || c.has(path),
            `find ${test} ${JSON.stringify(pattern)}, ${
              JSON.stringify(new TextDecoder().decode(FIND_NAMES[i]))
            }: ours ${ours}, in C ${c.has(path)}`,
          );
        }
      };
      for (const [pattern, flags] of FIND_PATTERNS) {
        await compare(flags & ICASE ? "-iname" : "-name", pattern, flags, FIND_NAMES);
      }
      // -path: the whole path, `*` across `/`
      for (const pattern of ["*/é", "*[/]é*", `${root}/?`, "*/*/*", "*-fnm-*/[![:alpha:]]*"]) {
        await compare("-path", pattern, 0, paths);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
