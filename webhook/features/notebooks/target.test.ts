import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkNotebookFolder, checkNotebookUser, findNotebookUser, notebookRepoUrl } from "./target.js";

const TEMPLATE = "http://deployment-manager-git:8099/jupyter-{user}";
const user = (value: string) => checkNotebookUser({ name: "annotation hub.jupyter.org/username", value });

describe("checkNotebookUser", () => {
  it.each([
    ["a plain name", "alice"],
    ["KubeSpawner's escaped slug", "alice-2esmith"],
    ["KubeSpawner's safe slug with its hash", "j-start---f587e2dc"],
    ["a PNDA (POSIX) name", "svc_pnda.ops"],
    ["digits first", "1000"],
    ["64 characters", "a".repeat(64)],
  ])("accepts %s", (_, value) => {
    expect(user(value)).toEqual({ ok: true, value });
  });

  it.each([
    ["a command substitution", "$(touch /tmp/pwned)"],
    ["a command separator", "a;b"],
    ["a path", "../x"],
    ["a slash", "a/b"],
    ["two dots", "a..b"],
    ["a leading dash (an option to git)", "-alice"],
    ["a leading dot", ".alice"],
    ["quotes", "al'ice"],
    ["a newline", "alice\nbob"],
    ["upper case (JupyterHub normalises to lower)", "Alice"],
    ["an e-mail address", "alice@example.com"],
    ["a percent escape", "a%2fb"],
    ["nothing", ""],
    ["65 characters", "a".repeat(65)],
  ])("rejects %s, naming where it came from and the fix", (_, value) => {
    const result = user(value);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(
      /^annotation hub\.jupyter\.org\/username is ".*", not a JupyterHub username .*set graft\.pnda\.io\/notebooks-user/,
    );
  });

  it("quotes the value in the reason, so a hostile one cannot forge a message line", () => {
    const result = user("x\ngraft: all good");
    expect(!result.ok && result.error).not.toContain("\n");
  });

  /** Names of the documented form: 1-64 of a-z 0-9 . _ -, not starting with . or -, no "..". */
  const validName = fc
    .tuple(
      fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789_"),
      fc.string({ unit: fc.constantFrom(..."abcxyz0189._-"), maxLength: 63 }),
    )
    .map(([first, rest]) => `${first}${rest}`.replace(/\.{2,}/g, "."));

  /** Where a URL, a path or a shell could go wrong, mixed with what is allowed. */
  const nearName = fc.string({
    unit: fc.constantFrom(..."abz09._-/\\%?#@:;$`'\" \n\tA.-"),
    maxLength: 70,
  });

  /** The URL path of a name put in the template, whose segment must be exactly `jupyter-<name>`. */
  const staysOneSegment = (value: string) => {
    const url = new URL(notebookRepoUrl(TEMPLATE, value));
    expect(url.host).toBe("deployment-manager-git:8099");
    expect(url.pathname).toBe(`/jupyter-${value}`);
    expect(url.pathname.split("/")).toHaveLength(2);
    expect(decodeURIComponent(url.pathname)).toBe(url.pathname);
    expect(url.search + url.hash).toBe("");
  };

  it("accepts every name of the documented form, and each stays one path segment of the URL", () => {
    fc.assert(
      fc.property(validName, (value) => {
        expect(user(value)).toEqual({ ok: true, value });
        staysOneSegment(value);
      }),
    );
  });

  it("lets through, from names with hostile characters, only ones that stay one path segment", () => {
    fc.assert(
      fc.property(nearName, (value) => {
        const result = user(value);
        if (result.ok) {
          staysOneSegment(value);
          expect(value).toMatch(/^[^.-]/);
          expect(value).not.toContain("..");
        } else {
          expect(result.error).toContain(JSON.stringify(value).slice(0, 40));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("findNotebookUser", () => {
  it("prefers graft's annotation, then KubeSpawner's annotation, then its label", () => {
    const labels = { "hub.jupyter.org/username": "label-user" };
    const annotations = {
      "hub.jupyter.org/username": "hub-user",
      "graft.pnda.io/notebooks-user": "graft-user",
    };
    expect(findNotebookUser(labels, annotations)).toEqual({
      name: "annotation graft.pnda.io/notebooks-user",
      value: "graft-user",
    });
    expect(findNotebookUser(labels, { "hub.jupyter.org/username": "hub-user" })?.value).toBe("hub-user");
    expect(findNotebookUser(labels, undefined)).toEqual({
      name: "label hub.jupyter.org/username",
      value: "label-user",
    });
    expect(findNotebookUser(undefined, undefined)).toBeUndefined();
  });
});

describe("notebookRepoUrl", () => {
  it("replaces every {user} in the template", () => {
    expect(notebookRepoUrl(TEMPLATE, "alice")).toBe("http://deployment-manager-git:8099/jupyter-alice");
    expect(notebookRepoUrl("https://git/{user}/{user}.git", "bob")).toBe("https://git/bob/bob.git");
  });
});

describe("checkNotebookFolder", () => {
  it("accepts an absolute path below a folder", () => {
    expect(checkNotebookFolder("/home/jovyan/apps-notebooks")).toEqual({
      ok: true,
      value: "/home/jovyan/apps-notebooks",
    });
  });

  it.each([
    "/",
    "/home",
    "home/jovyan/x",
    "/home/jovyan/",
    "/home//x",
    "/home/./x",
    "/home/jovyan/../x",
    "/home/a\nb",
  ])("rejects %j", (folder) => {
    const result = checkNotebookFolder(folder);
    expect(!result.ok && result.error).toMatch(
      /^notebooks\.folder is .*: expected an absolute path below a folder/,
    );
  });
});
