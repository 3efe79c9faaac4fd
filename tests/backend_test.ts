/**
 * Backend selection: "auto" falls back to threads when the kernel refuses a
 * ring (simulated through the C injection hook), "io_uring" then fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IoQueue } from "../mod.ts";
import { BACKENDS, inject } from "./helpers.ts";

const uring = BACKENDS.find((b) => b.backend === "io_uring")!;

for (
  const [errno, code, Class] of [
    [-1, "EPERM", Deno.errors.PermissionDenied],
    [-38, "ENOSYS", Error],
  ] as const
) {
  Deno.test(`"auto" uses threads when ring setup fails with ${code}`, async () => {
    inject("ringSetup", errno, 1);
    try {
      using q = new IoQueue({ backend: "auto" });
      assert.equal(q.backend, "threads");
      q.opendir("/", 1);
      const [c] = await q.pop();
      assert.ok(c.op === "opendir" && c.dir);
      assert.ok(c.dir.readAll().some((e) => e.name === "usr"));
    } finally {
      inject("ringSetup", 0, 0);
    }
  });

  Deno.test(`"io_uring" throws ${code} when ring setup fails`, () => {
    inject("ringSetup", errno, 1);
    try {
      assert.throws(() => new IoQueue({ backend: "io_uring" }), (e: Error & { code?: string }) => {
        assert.ok(e instanceof Class, `${e.constructor.name}`);
        assert.equal(e.code, code);
        assert.match(e.message, /create IoQueue \(backend io_uring\)/);
        return true;
      });
    } finally {
      inject("ringSetup", 0, 0);
    }
  });
}

Deno.test({
  name: `"auto" uses io_uring where the kernel allows it`,
  ignore: uring.skip !== undefined,
  fn() {
    using q = new IoQueue();
    assert.equal(q.backend, "io_uring");
  },
});
