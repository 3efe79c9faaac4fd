/**
 * cli/glob.ts against what glibc's fnmatch() (2.36, C.UTF-8) answers for
 * the same pattern and name: classes, ranges, escapes, case folding,
 * patterns glibc rejects, and names that are not UTF-8.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { Glob } from "../cli/glob.ts";

/** A name's bytes: `\xNN` escapes for single bytes, the rest as UTF-8. */
function name(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text.startsWith("\\x", i)) {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      out.push(...new TextEncoder().encode(ch));
      i += ch.length;
    }
  }
  return new Uint8Array(out);
}

/** [pattern, name, matches]; with case folding in the second table. */
const CASES: [string, string, boolean][] = [
  ["*.[ch]", "x.c", true],
  ["*/*", "a/b/c", true],
  ["*", ".hidden", true],
  ["?", "é", true],
  // glibc falls back to bytes when characters do not match: é is two bytes
  ["??", "é", true],
  ["???", "é", false],
  ["?", "ü€", false],
  ["??", "ü€", true],
  ["[!a]", "\\xff", true],
  ["?", "\\xff", true],
  ["*", "\\xff", true],
  ["[[:alpha:]]*", "x\\xff", true],
  ["[[:alpha:]]", "\\xc3", false],
  ["[a-z]", "b", true],
  ["[z-a]", "b", false],
  ["[z-ab]", "b", true],
  ["[a-é]", "à", true],
  ["[a-z]", "é", false],
  ["[]a]", "]", true],
  ["[!]a]", "]", false],
  ["[]-a]", "b", false],
  ["[a-]", "-", true],
  ["[!-]", "a", true],
  ["[a-c-e]", "d", false],
  ["[a-c-e]", "-", true],
  ["[^a]", "b", true],
  ["[!!]", "!", false],
  ["[\\!a]", "!", true],
  ["[*]", "*", true],
  ["\\[a", "[a", true],
  ["[\\]]", "]", true],
  ["\\\\", "\\", true],
  ["\\a", "a", true],
  // An unterminated bracket is an ordinary "["
  ["[", "[", true],
  ["[ab", "[ab", true],
  ["[!]", "!", false],
  ["[[:alpha:]", "[", false],
  ["[a\\]", "\\", false],
  // Rejected patterns match nothing
  ["ab\\", "ab\\", false],
  ["a*\\", "a\\", false],
  ["[\\", "[\\", false],
  ["[[:foo:]]", "a", false],
  ["*[[:foo:]]", "x", false],
  ["[a-[:alpha:]]", "b", false],
  ["[[.hyphen.]]", "-", false],
  ["[[.space.]]", " ", false],
  // Collating symbols and equivalence classes of one character
  ["[[.a.]]", "a", true],
  ["[[=a=]]", "a", true],
  ["[[=e=]]", "é", false],
  ["[[.-.]]", "-", true],
  ["[a[.-.]z]", "-", true],
  ["[[.a.]-c]", "b", true],
  ["[a-[.c.]]", "b", true],
  // Classes, Unicode included
  ["[[:alpha:]-z]", "-", true],
  ["[[:upper:][:digit:]]", "5", true],
  ["[[:alpha:]]", "é", true],
  ["[[:alpha:]]", "α", true],
  ["[[:alpha:]]", "中", true],
  ["[[:alpha:]]", "\u0663", true],
  ["[[:digit:]]", "\u0663", false],
  ["[[:alnum:]]", "\u0663", true],
  ["[[:alpha:]]", "\u2160", true],
  ["[[:upper:]]", "\u2160", true],
  ["[[:alpha:]]", "\u0301", false],
  ["[[:punct:]]", "\u0301", true],
  ["[[:print:]]", "\u0301", true],
  ["[[:alpha:]]", "😀", false],
  ["[[:punct:]]", "😀", true],
  ["[[:punct:]]", "§", true],
  ["[[:punct:]]", "€", true],
  ["[[:graph:]]", "€", true],
  ["[[:space:]]", "\u00a0", false],
  ["[[:print:]]", "\u00a0", true],
  ["[[:space:]]", "\u2003", true],
  ["[[:blank:]]", "\u2003", true],
  ["[[:cntrl:]]", "\u0085", true],
  ["[[:lower:]]", "é", true],
  ["[[:upper:]]", "É", true],
  ["[[:xdigit:]]", "\uff21", false],
  ["[[:alpha:]]", "[", false],
  ["[[:alpha:]]", "\\xff", false],
  ["[!x]", "é", true],
  ["[é]", "é", true],
  // The name is not UTF-8: the pattern's bytes are matched byte by byte
  ["[é]", "\\xc3", true],
  ["[é]x", "\\xc3x", true],
];

const CASELESS: [string, string, boolean][] = [
  ["[A-Z]", "a", true],
  ["[a-z]", "A", true],
  ["[B-D]", "c", true],
  ["[b-d]", "C", true],
  ["[!b-d]", "C", false],
  ["\\A", "a", true],
  ["É", "é", true],
  ["*é*", "XÉY", true],
  // Classes test the character as it is
  ["[[:upper:]]", "a", false],
  ["[[:lower:]]", "A", false],
  ["[[:alpha:]]", "A", true],
  ["[[:upper:]]", "é", false],
];

Deno.test("Glob matches as glibc's fnmatch does", () => {
  const failures: string[] = [];
  for (const [pattern, subject, want] of CASES) {
    if (new Glob(pattern).matches(name(subject)) !== want) failures.push(`${pattern} ${subject}`);
  }
  for (const [pattern, subject, want] of CASELESS) {
    if (new Glob(pattern, true).matches(name(subject)) !== want) {
      failures.push(`(caseless) ${pattern} ${subject}`);
    }
  }
  assertEquals(failures, []);
});

Deno.test("Glob matches part of a buffer, and literal patterns as bytes", () => {
  const path = name("/dir/sub/file.tar.gz");
  const start = path.lastIndexOf(0x2f) + 1;
  assertEquals(new Glob("*.gz").matches(path, start), true);
  assertEquals(new Glob("file*").matches(path, start), true);
  assertEquals(new Glob("*dir*").matches(path, start), false);
  assertEquals(new Glob("*.tar.*").matches(path, start, path.length - 3), false);
  assertEquals(new Glob("f*l*e*z").matches(path, start), true);
  assertEquals(new Glob("").matches(path, path.length), true);
  assertEquals(new Glob("a*a").matches(name("a")), false);
});
