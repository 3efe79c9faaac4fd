/**
 * The CLI against GNU find, case by case: the same command line through
 * both on the same tree (tests/cli/tree.ts), with the same stdout (sorted
 * records), exit status and errors.
 *
 * @module
 */

import { compareWithFind } from "./cli/run.ts";
import { makeFindTree, type Tree } from "./cli/tree.ts";
import { BACKENDS } from "./helpers.ts";

/** The expressions compared, each after the tree's root (`R`) or as given. */
function cases(t: Tree): string[][] {
  const R = t.root;
  const ref = t.reference;
  return [
    // The walk itself
    [R],
    [R, "-print0"],
    [`${R}/`],
    [`${R}//a`],
    [R, "-maxdepth", "0"],
    [R, "-maxdepth", "1"],
    [R, "-mindepth", "2"],
    [R, "-maxdepth", "2", "-mindepth", "2"],
    [`${R}/a`, `${R}/missing`, `${R}/empty`],
    [`${R}/s1`, `${R}/broken`, `${R}/link-dir`],
    // Names and paths
    [R, "-name", "*.txt"],
    [R, "-iname", "*.TXT"],
    [R, "-name", "[[:upper:]]*"],
    [R, "-name", "[!a-z]*"],
    [R, "-name", "?"],
    [R, "-name", "??"],
    [R, "-name", "*\\**"],
    [R, "-name", "[z-a]"],
    [R, "-name", "\\[*"],
    [R, "-name", "*[[:space:]]*"],
    [R, "-name", "*[[:punct:]]*"],
    [R, "-name", "[[:alpha:]]*.txt"],
    [R, "-name", "é*"],
    [R, "-iname", "É*"],
    [R, "-name", ".*"],
    [R, "-name", "*-?-*"],
    [R, "-name", "[[:digit:]]*"],
    [R, "-name", "[[:foo:]]"],
    [R, "-name", "trailing\\"],
    [`${R}/a/`, "-name", "a"],
    [R, "-path", "*/b/*"],
    [R, "-ipath", "*/A/*"],
    [R, "-wholename", "*c"],
    [R, "-lname", "*file*"],
    [R, "-ilname", "NOWHERE"],
    [R, "-lname", "*"],
    // Types
    ...["f", "d", "l", "p", "s", "c", "b", "f,d", "l,p,s"].map((ty) => [R, "-type", ty]),
    [R, "-xtype", "l"],
    [R, "-xtype", "d"],
    [R, "-xtype", "f,c,p"],
    ["-L", R, "-type", "l"],
    ["-L", R, "-xtype", "l"],
    ["-L", R, "-type", "d"],
    ["-L", R, "-type", "c"],
    ["-L", R],
    ["-L", `${R}/broken`],
    ["-L", `${R}/self`],
    ["-H", `${R}/link-dir`],
    ["-H", `${R}/link-dir`, "-xtype", "l"],
    ["-H", `${R}/broken`, `${R}/link-file`, "-printf", "%p %y %Y\n"],
    ["-P", `${R}/link-dir`],
    [R, "-follow", "-type", "f"],
    // Metadata
    [R, "-empty"],
    [R, "-links", "2"],
    [R, "-links", "+2"],
    [R, "-samefile", `${R}/hard1`],
    [R, "-inum", "1"],
    ...["0", "1", "-1", "+1k", "1k", "513c", "-512c", "+10k", "-2M", "2M", "2w", "+0"].map((
      s,
    ) => [R, "-size", s]),
    ...["644", "-644", "/111", "-u+s", "/g+s,o+t", "/000", "u=rwx,go=rx", "-o+w", "+w", "2711"]
      .map((m) => [R, "-perm", m]),
    [R, "-user", "root"],
    [R, "-user", "nobody"],
    [R, "-user", "0"],
    [R, "-uid", "1234"],
    [R, "-gid", "+1000"],
    [R, "-group", "nogroup"],
    [R, "-nouser"],
    [R, "-nogroup"],
    // Times
    [R, "-newer", ref],
    [R, "-anewer", ref],
    [R, "-cnewer", ref],
    [R, "-newermm", ref],
    [R, "-neweram", ref],
    ...["0", "+1", "-2", "1", "-1.5", "+0", "-0", "2"].map((n) => [R, "-mtime", n]),
    [R, "-daystart", "-mtime", "0"],
    [R, "-mmin", "-60"],
    [R, "-mmin", "+60"],
    [R, "-mmin", "-100"],
    [R, "-type", "f", "-atime", "+5"],
    [R, "-type", "f", "-amin", "-60"],
    [R, "-cmin", "-60"],
    [R, "-ctime", "+1"],
    // Access (as root)
    [R, "-readable"],
    [R, "-writable"],
    [R, "-executable"],
    [R, "!", "-executable"],
    // Operators and actions
    [R, "(", "-type", "f", "-o", "-type", "d", ")", "-name", "*a*"],
    [R, "!", "-name", "*.txt", "-type", "f"],
    [R, "-not", "-type", "d", "-a", "-name", "s*"],
    [R, "-name", "*.txt", ",", "-type", "d"],
    [R, "-type", "d", "-print", ",", "-name", "*.txt", "-print"],
    [R, "-false", "-o", "-name", "s*"],
    [R, "-false"],
    [R, "-name", "s*", "-false"],
    [R, "-false", "-print0"],
    [R, "-true", "-o", "-print"],
    [R, "-maxdepth", "0", "-o", "-print"],
    [R, "-name", "a", "-prune", "-o", "-print"],
    [R, "-path", "*/deep/1", "-prune", "-o", "-name", "*", "-print"],
    [R, "-name", "a", "-prune"],
    [R, "-depth"],
    [R, "-depth", "-name", "b"],
    [R, "-depth", "-name", "a", "-prune", "-o", "-print"],
    [R, "-name", "deep.txt", "-print", "-quit"],
    [R, "-quit"],
    [R, "-type", "f", "-exec", "echo", "X{}Y", ";"],
    [R, "-name", "s*", "-exec", "printf", "%s\\n", "{}", "+"],
    [R, "-exec", "test", "-d", "{}", ";", "-print"],
    [R, "-name", "s1*", "-exec", "false", "{}", "+"],
    [R, "-name", "*.txt", "-execdir", "printf", "%s\\n", "{}", ";"],
    [R, "-name", "*.txt", "-execdir", "printf", "%s\\n", "{}", "+"],
    [R, "-name", "inside-*", "-exec", "printf", "<%s>\\n", "{}", ";"],
    // -printf and -ls
    [R, "-printf", "%p|%f|%h|%P|%H|%d|%y|%Y\\n"],
    [R, "-printf", "%s %b %k %m %M %n %u %g %U %G %i %D\\n"],
    [`${R}/`, "-printf", "[%f][%h][%P]\\n"],
    [R, "-printf", "%l|%S\\n"],
    [R, "-printf", "[%-12f][%12s][%.3f][%05d][%+d][%#m][%-6m][%5.3u]\\n"],
    [R, "-printf", "%TY-%Tm-%Td %TH:%TM:%TS %T@ %Tk %Tj %Ta %TA %Tb %TB %Tp %Tr %TZ\\n"],
    [R, "-printf", "%T+ %Tc %TD %TF %TT %TX %Tx %Ts %TU %TW %TV %TG %Tg %Tw %Tu %Ty %TC\\n"],
    [R, "-printf", "%t|%T@\\n"],
    [R, "-type", "f", "-printf", "%A@ %a %AT\\n"],
    [R, "-printf", "a\\tb\\101\\0c\\\\%%\\n"],
    [R, "-name", "s1", "-printf", "a\\cb\\n"],
    [R, "-printf", "%z\\n"],
    // More of the same, where find's rules have corners
    [R, "-perm", "-g=w"],
    [R, "-perm", "/u=s"],
    [R, "-perm", "a=r"],
    [R, "-printf", "%b %k %S\\n"],
    [R, "-iname", "BAD-*"],
    [R, "-empty", "-type", "d"],
    [R, "-depth", "-name", "b", "-quit"],
    ["-H", R, `${R}/link-dir`, `${R}/link-file`, "-maxdepth", "1"],
    ["-L", R, "-samefile", `${R}/a`],
    ["-H", R, "-newer", `${R}/link-file`],
    [R, "(", "-name", "a", "-o", "-name", "deep", ")", "-prune", "-o", "-type", "f", "-print"],
    [R, "-type", "d", "-name", "*", "-prune", "-print"],
    [R, "-printf", "%-5d|%5d|%05d|%.0d|%x\\n"],
    [R, "-printf", "%10.3M|%-12y|%3Y\\n"],
    [R, "-type", "f", "-printf", "%+5s|% d|%#s\\n"],
    ["-L", R, "-printf", "%p %y %Y %l\\n"],
    ["-L", R, "-lname", "*"],
    [R, "-size", "-0"],
    [R, "-size", "+1G"],
    [R, "-mtime", "+400"],
    [R, "-true", ",", "-false"],
    [R, "!", "!", "-name", "s1"],
    [R, "-newercm", `${R}/s1`],
    [R, "-name", "null", "-ls"],
    // (-ls widens its owner column for good after a uid with no name: the
    // layout depends on the order, so that file is listed alone)
    [R, "!", "-name", "orphan", "-ls"],
    [R, "-name", "orphan", "-ls"],
  ];
}

Deno.test("walk CLI prints what find prints, case by case", async (t) => {
  const tree = await makeFindTree();
  try {
    for (const args of cases(tree)) {
      const name = args.join(" ").replaceAll(tree.root, "R");
      await t.step(name, () => compareWithFind(args));
    }
    await t.step("from inside the tree: . and relative roots", async () => {
      await compareWithFind([], { cwd: tree.root });
      await compareWithFind(["."], { cwd: tree.root });
      await compareWithFind(["a", "./empty", "a/b/", "-print"], { cwd: tree.root });
      await compareWithFind([".", "-name", "a", "-printf", "%p %P %h %f\\n"], { cwd: tree.root });
      await compareWithFind(["-H", "link-dir", "-printf", "%p %P %h %f %y\\n"], {
        cwd: tree.root,
      });
      // Roots with trailing slashes, and of slashes only
      const names = ["-printf", "%p|%f|%h|%P|%H|%d\\n"];
      for (const root of ["a//", "a/b///", "./", "/", "//", ".."]) {
        await compareWithFind([root, "-maxdepth", root.startsWith("a") ? "1" : "0", ...names], {
          cwd: tree.root,
        });
      }
      const where = ["-execdir", "sh", "-c", 'echo "$(pwd) $0"', "{}", ";"];
      for (const root of ["a//", "a/b", "/", "."]) {
        await compareWithFind([root, "-maxdepth", "0", ...where], { cwd: tree.root });
      }
    });
    await t.step("-xdev: /dev's mount points listed, not entered", async () => {
      await compareWithFind(["/dev", "-xdev"]);
      await compareWithFind(["/dev", "-mount", "-type", "d"]);
    });
  } finally {
    await Deno.remove(tree.root, { recursive: true });
  }
});

Deno.test("walk CLI prints paths longer than PATH_MAX and than its path batches hold", async () => {
  // 320 levels of 200-byte names: 64 KB paths
  const root = await Deno.makeTempDir({ prefix: "ioq-cli-deep-" });
  try {
    const name = "d".repeat(200);
    // (built from the bottom up, each level wrapping the last: no long path is ever used)
    const script = `cd "$1" && mkdir ${name} && : > ${name}/leaf && for i in $(seq 319); do ` +
      `mkdir t && mv ${name} t/ && mv t ${name} || exit 1; done`;
    const made = await new Deno.Command("sh", { args: ["-c", script, "sh", root] }).output();
    if (!made.success) throw new Error(new TextDecoder().decode(made.stderr));
    await compareWithFind([root]);
    await compareWithFind([root, "-name", "leaf"]);
    await compareWithFind([root, "-type", "d", "-printf", "%d\\n"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk CLI matches find on both backends, both orders", async (t) => {
  const tree = await makeFindTree();
  const R = tree.root;
  try {
    for (const { backend, skip } of BACKENDS) {
      for (const order of [[], ["-dfs"]]) {
        const extra = ["-backend", backend, ...order];
        for (
          const args of [[R], ["-L", R], [R, "-type", "f", "-size", "+1"], [R, "-name", "*.txt"]]
        ) {
          const name = `${[...args, ...extra].join(" ").replaceAll(R, "R")}`;
          await t.step({
            name,
            ignore: skip !== undefined,
            fn: () => compareWithFind(args, { ours: [...args, ...extra] }),
          });
        }
      }
    }
  } finally {
    await Deno.remove(R, { recursive: true });
  }
});
