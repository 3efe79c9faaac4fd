/**
 * What the CLI needs to know about its own process: who it runs as, and
 * whether stdout was closed when it started.
 *
 * Deno refuses `/proc/self` and `/dev/fd` to scripts without `--allow-all`,
 * and has no fstat() or getgroups(); the queue's stat does not go through
 * Deno's file API, so these few stats are made through a small queue of
 * their own.
 *
 * @module
 */

import { IoQueue } from "../lib/queue.ts";
import type { Accounts, Identity } from "./users.ts";

/** Stats paths through a queue of one thread; an entry per path, undefined where it failed. */
async function statAll(
  requests: { path: string; follow: boolean }[],
): Promise<(Deno.FileInfo | undefined)[]> {
  await using q = new IoQueue({ depth: requests.length, threads: 1, backend: "threads" });
  requests.forEach((r, i) => q.stat(r.path, i, { followSymlinks: r.follow }));
  const out: (Deno.FileInfo | undefined)[] = new Array(requests.length);
  for (let left = requests.length; left > 0;) {
    for (const done of await q.pop()) {
      left--;
      if (done.op === "stat") out[done.tag] = done.stat;
    }
  }
  return out;
}

/**
 * Who the process is, as access(2) sees it: the owner of `/proc/self` (the
 * effective ids, which are the real ones unless Deno itself is set-id), and
 * as supplementary groups those `/etc/group` lists the user in, as login
 * sets them (a process that changed its groups since, with `setpriv` or
 * `newgrp`, is not seen as it is).  Without `/proc`, root is assumed.
 */
export async function readIdentity(accounts: Accounts): Promise<Identity> {
  const [self] = await statAll([{ path: "/proc/self", follow: true }]);
  const uid = self?.uid ?? 0;
  const gid = self?.gid ?? 0;
  const name = accounts.userName(uid);
  return { uid, gid, groups: new Set(name === undefined ? [] : accounts.groupsOf(name)) };
}

/** `/dev/null`'s device number (1, 3). */
const DEV_NULL = 259;

/**
 * Whether stdout was closed when the process started (`>&-`): the Deno
 * runtime then opens `/dev/null` read-write on it, where a shell's
 * `> /dev/null` opens it write-only (procfs shows the access mode in the
 * descriptor link's permission bits).  Opening `/dev/null` read-write on
 * purpose (`1<>/dev/null`) is taken as closed too.
 */
export async function stdoutWasClosed(): Promise<boolean> {
  const [link, target] = await statAll([
    { path: "/proc/self/fd/1", follow: false },
    { path: "/proc/self/fd/1", follow: true },
  ]);
  if (!link || !target) return false;
  return target.isCharDevice === true && target.rdev === DEV_NULL &&
    ((link.mode ?? 0) & 0o400) !== 0;
}
