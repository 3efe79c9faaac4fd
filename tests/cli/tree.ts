/**
 * The tree the CLI is compared with GNU find on: every kind of entry, names
 * find and shells find awkward, files of known sizes, modes, owners and
 * times (whole seconds, so millisecond times compare exactly).
 *
 * @module
 */

import { bytes, createRaw, mkdirRaw, mkSocket } from "../libc.ts";

/** Seconds in a day. */
const DAY = 86400;

/** A file: its relative path, size, mode, and mtime/atime as seconds before `now` (negative: after). */
interface Spec {
  path: string;
  size?: number;
  mode?: number;
  age?: number;
  atimeAge?: number;
  owner?: [number, number];
}

/** The regular files. */
const FILES: Spec[] = [
  { path: "a/file.txt", size: 0, age: 30 * 60 },
  { path: "a/b/c/deep.txt", size: 3, age: 2 * 3600 },
  { path: "a/B.TXT", size: 5, age: 1.5 * DAY },
  { path: "s1", size: 1, age: 10 * DAY },
  { path: "s511", size: 511, age: 400 * DAY, atimeAge: 20 * DAY },
  { path: "s512", size: 512, age: 3 * DAY },
  { path: "s513", size: 513, age: 2 * DAY + 600 },
  { path: "s1k", size: 1024, age: 1 * DAY + 60 },
  { path: "s10k", size: 10 * 1024 + 1, age: 59 * 60 },
  { path: "s2M", size: 2 * 1024 * 1024, age: 61 * 60 },
  { path: "future", size: 7, age: -2 * DAY },
  { path: "line\nbreak", size: 2 },
  { path: "back\\slash", size: 2 },
  { path: "star*name" },
  { path: "-dash" },
  { path: "[bracket]" },
  { path: "?q" },
  { path: "UPPER.TXT" },
  { path: "lower.txt" },
  { path: "é.txt", size: 4 },
  { path: "x\ty" },
  { path: ".hidden" },
  { path: " lead space" },
  { path: "with space/inner file" },
  { path: "ünïcödé/ok.txt" },
  { path: "m000", mode: 0o000 },
  { path: "m600", mode: 0o600 },
  { path: "m755", mode: 0o755 },
  { path: "m4755", mode: 0o4755 },
  { path: "m2711", mode: 0o2711 },
  { path: "m1644", mode: 0o1644 },
  { path: "hard1", size: 9 },
  { path: "orphan", owner: [1234, 5678] },
  { path: "nobody-file", owner: [65534, 65534] },
  { path: "deep/1/2/3/4/leaf" },
];

/** Directories (made before the files). */
const DIRS = ["a/b/c", "empty", "with space", "ünïcödé", "deep/1/2/3/4", "sticky", "locked-ish"];

/** Symlinks: name, target. */
const LINKS: [string, string][] = [
  ["link-file", "a/file.txt"],
  ["link-dir", "a"],
  ["broken", "nowhere"],
  ["self", "self"],
  ["a/up", ".."],
  ["chain1", "chain2"],
  ["chain2", "a/B.TXT"],
  ["link-fifo", "fifo"],
  ["link-null", "/dev/null"],
  ["link-to-broken", "broken"],
];

/** The paths a caller may use as references and roots. */
export interface Tree {
  /** The tree's root (absolute). */
  root: string;
  /** A file whose mtime is an hour before `now` (for -newer). */
  reference: string;
  /** When the tree was made (seconds). */
  now: number;
}

/** Runs a command, throwing when it fails. */
async function sh(script: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("sh", { args: ["-c", script, "sh", ...args] })
    .output();
  if (code !== 0) throw new Error(`${script}: ${new TextDecoder().decode(stderr)}`);
}

/** Builds the tree in a new temporary directory. */
export async function makeFindTree(): Promise<Tree> {
  const now = Math.floor(Date.now() / 1000);
  const root = await Deno.makeTempDir({ prefix: "ioq-cli-" });
  await Deno.chmod(root, 0o755);
  for (const d of DIRS) await Deno.mkdir(`${root}/${d}`, { recursive: true });
  for (const f of FILES) {
    await Deno.writeFile(`${root}/${f.path}`, new Uint8Array(0));
    if (f.size) await Deno.truncate(`${root}/${f.path}`, f.size);
    if (f.owner) await Deno.chown(`${root}/${f.path}`, f.owner[0], f.owner[1]);
    if (f.mode !== undefined) await Deno.chmod(`${root}/${f.path}`, f.mode);
  }
  await Deno.link(`${root}/hard1`, `${root}/hard2`);
  for (const [name, target] of LINKS) await Deno.symlink(target, `${root}/${name}`);
  await sh('mkfifo "$1/fifo" && mknod "$1/null" c 1 3', root);
  mkSocket(`${root}/socket`);
  // Names that are not UTF-8: a file, and a directory with a file and a link in it
  createRaw(bytes(root, "/bad-", [0xff], "-file"));
  mkdirRaw(bytes(root, "/dir-", [0xc3, 0x28]));
  createRaw(bytes(root, "/dir-", [0xc3, 0x28], "/inside-", [0xfe]));
  await sh('ln -s "$(printf "target-\\376")" "$(printf "$1/dir-\\303(/link-\\375")"', root);
  await Deno.chmod(`${root}/sticky`, 0o1777);
  await Deno.chmod(`${root}/locked-ish`, 0o700);
  await Deno.chown(`${root}/locked-ish`, 65534, 65534);
  // Times: files as listed, the rest an hour and a half ago
  for (const f of FILES) {
    const mtime = now - (f.age ?? 5 * DAY);
    const atime = now - (f.atimeAge ?? f.age ?? 5 * DAY);
    await Deno.utime(`${root}/${f.path}`, atime, mtime);
  }
  const reference = `${root}/s10k`;
  // The rest (links, devices, the files with raw names, directories deepest first)
  await sh(
    'find "$1" -depth \\( ! -type f -o -name "*-file" -o -name "inside-*" \\) ' +
      '-exec touch -h -d "@$2" {} +',
    root,
    String(now - 90 * 60),
  );
  return { root, reference, now };
}
