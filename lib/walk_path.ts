/**
 * POSIX path helpers with the semantics of `@std/path` that `walk()` needs
 * to produce the same paths as `@std/fs` `walk`.
 *
 * @module
 */

/** Normalizes a path: resolves `.` and `..` lexically, squeezes slashes, keeps a trailing slash. */
export function normalize(path: string): string {
  if (path.length === 0) return ".";
  const absolute = path.charCodeAt(0) === 0x2f;
  const trailing = path.charCodeAt(path.length - 1) === 0x2f;
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else {
      out.push(segment);
    }
  }
  let result = out.join("/");
  if (result === "" && !absolute) result = ".";
  if (result !== "" && trailing) result += "/";
  return absolute ? `/${result}` : result;
}

/** The last segment of a path (trailing slashes ignored); `"/"` for the root. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * The prefix that makes a child path from a directory's normalized path, as
 * `@std/path` `join(dir, name)` would: `"."` joins to nothing, `"/"` to `"/"`.
 */
export function childPrefix(dir: string): string {
  if (dir === "." || dir === "./") return "";
  return dir.endsWith("/") ? dir : `${dir}/`;
}

/** A `string | URL` root as a path string (`file:` URLs only). */
export function rootPath(root: string | URL): string {
  if (typeof root === "string") return root;
  if (!(root instanceof URL)) {
    throw new TypeError(`Cannot walk ${typeof root}: the root must be a string or a file: URL`);
  }
  if (root.protocol !== "file:") {
    throw new TypeError(`Cannot walk ${root.href}: only file: URLs are paths`);
  }
  return decodeURIComponent(root.pathname);
}
