/**
 * The open descriptors of this process, for leak checks in the tests and in
 * their child processes.  Sockets and pipes are left out: the Deno runtime
 * opens a socket pair of its own some time after start-up (a few hundred
 * milliseconds in, in `deno run`), which would read as a leak of whatever
 * ran then; ioq opens neither.
 *
 * @module
 */

/** Each open descriptor by number, with what it points at (sockets and pipes left out). */
export function fdTable(): Map<string, string> {
  const table = new Map<string, string>();
  // Listed first, so that the listing's own descriptor is closed (and left out) below
  for (const e of [...Deno.readDirSync("/proc/self/fd")]) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      continue; // closed since (the listing's own)
    }
    if (!target.startsWith("socket:") && !target.startsWith("pipe:")) table.set(e.name, target);
  }
  return table;
}

/** The number of open descriptors (sockets and pipes left out). */
export function openFds(): number {
  return fdTable().size;
}
