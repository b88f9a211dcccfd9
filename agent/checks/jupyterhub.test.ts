import { describe, expect, it } from "vitest";
import { assessUsers } from "./jupyterhub.js";

describe("assessUsers", () => {
  it("counts users and their running servers, default and named", () => {
    const result = assessUsers([
      { name: "alice", server: "/user/alice/" },
      { name: "bob", server: null },
      {
        name: "carol",
        server: null,
        servers: { a: { ready: true }, b: { ready: true }, c: { ready: false } },
      },
    ]);
    expect(result).toEqual({ health: "OK", causes: [], values: { users: 3, running_servers: 3 } });
  });
});
