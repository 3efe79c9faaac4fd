/**
 * User and group names, read from `/etc/passwd` and `/etc/group` (Deno has
 * no `getpwnam()`), and how `-readable`, `-writable` and `-executable`
 * decide.
 *
 * Only the files are read: users known to NSS through other sources (LDAP,
 * systemd's dynamic users) are unknown here, so `-user NAME` rejects their
 * names and `-nouser` matches their files.  A file that cannot be read counts
 * as empty.
 *
 * @module
 */

/** One database: ids to names and back (the first line for an id or a name wins, as getpw* do). */
class Names {
  readonly byId = new Map<number, string>();
  readonly byName = new Map<string, number>();
  /** For groups: the ids of the groups each user is listed in. */
  readonly memberOf = new Map<string, number[]>();

  /** Reads `name:x:id:...` lines. */
  constructor(path: string) {
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      const fields = line.split(":");
      if (fields.length < 3 || fields[0] === "" || !/^\d+$/.test(fields[2])) continue;
      const id = Number(fields[2]);
      if (!this.byId.has(id)) this.byId.set(id, fields[0]);
      if (!this.byName.has(fields[0])) this.byName.set(fields[0], id);
      for (const member of (fields[3] ?? "").split(",")) {
        if (member !== "") this.memberOf.set(member, [...this.memberOf.get(member) ?? [], id]);
      }
    }
  }
}

/** Users and groups, each file read on first use. */
export class Accounts {
  #users: Names | undefined;
  #groups: Names | undefined;

  /** The user database. */
  get #u(): Names {
    return this.#users ??= new Names("/etc/passwd");
  }

  /** The group database. */
  get #g(): Names {
    return this.#groups ??= new Names("/etc/group");
  }

  /** A uid's name, if it has one. */
  userName(uid: number): string | undefined {
    return this.#u.byId.get(uid);
  }

  /** A gid's name, if it has one. */
  groupName(gid: number): string | undefined {
    return this.#g.byId.get(gid);
  }

  /** A user name's uid, if it is known. */
  uidOf(name: string): number | undefined {
    return this.#u.byName.get(name);
  }

  /** A group name's gid, if it is known. */
  gidOf(name: string): number | undefined {
    return this.#g.byName.get(name);
  }

  /** The groups `/etc/group` lists a user in. */
  groupsOf(user: string): number[] {
    return this.#g.memberOf.get(user) ?? [];
  }
}

/** Who the process is, as access(2) sees it: the real ids and the supplementary groups. */
export interface Identity {
  uid: number;
  gid: number;
  groups: Set<number>;
}

/** Permission bits a request asks for (as access(2)'s R_OK, W_OK, X_OK). */
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

/**
 * Whether access(2) would grant `want` on a file of this mode and owner:
 * root is granted reading and writing always, and executing when some
 * execute bit is set or the file is a directory; anyone else is granted what
 * the owner, group or other bits give, picked as the kernel picks them.
 *
 * Not modelled: ACLs, capabilities other than root's, read-only mounts,
 * `noexec` mounts, and the files of other user namespaces.
 */
export function accessible(
  me: Identity,
  mode: number,
  uid: number,
  gid: number,
  want: number,
): boolean {
  if (me.uid === 0) {
    if ((want & X_OK) === 0) return true;
    return (mode & 0o111) !== 0 || (mode & 0o170000) === 0o040000;
  }
  let bits: number;
  if (me.uid === uid) bits = (mode >> 6) & 7;
  else if (me.gid === gid || me.groups.has(gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) === want;
}
