import { describe, expect, it } from "vitest";
import type { BackendContext } from "../backend.js";
import { envBackend, parseServerUrls } from "./env-backend.js";

describe("parseServerUrls", () => {
  it.each([
    [
      "mysql://root@127.0.0.1:3307",
      [{ host: "127.0.0.1", port: 3307, user: "root", password: "" }],
    ],
    ["mysql://h", [{ host: "h", port: 3306, user: "root", password: "" }]],
    ["mysql://u:p%2Fw@h:1/ignored?x=1", [{ host: "h", port: 1, user: "u", password: "p/w" }]],
    ["mysql://root@[::1]:3306", [{ host: "::1", port: 3306, user: "root", password: "" }]],
    [
      " mysql://a@h1:1 , ,mysql://b@h2:2 ",
      [
        { host: "h1", port: 1, user: "a", password: "" },
        { host: "h2", port: 2, user: "b", password: "" },
      ],
    ],
    ["", []],
  ])("parses %j", (value, addresses) => {
    expect(parseServerUrls(value)).toEqual(addresses);
  });

  it.each([
    "postgres://u:topsecret@h/x",
    "not a url:topsecret@",
    "mysql://u:topsecret@",
    "mysql:u:topsecret@h",
  ])("rejects %j with BAD_URL and no password", (value) => {
    let error: unknown;
    try {
      parseServerUrls(value);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "BAD_URL" });
    expect((error as Error).message).not.toContain("topsecret");
    expect((error as Error).message).toContain("SHARDKIT_MYSQL_URLS");
  });
});

const context = (env: NodeJS.ProcessEnv): BackendContext => ({
  env,
  binarySearchPath: undefined,
  serverArgs: [],
  signal: undefined,
});

describe("envBackend", () => {
  it("is unavailable when SHARDKIT_MYSQL_URLS is unset or blank", async () => {
    expect(await envBackend.probe(context({}))).toMatchObject({ available: false });
    expect(await envBackend.probe(context({ SHARDKIT_MYSQL_URLS: "  " }))).toMatchObject({
      available: false,
    });
  });

  it("reuses the URLs round-robin when more servers are asked for, and owns none of them", async () => {
    const probe = await envBackend.probe(
      context({ SHARDKIT_MYSQL_URLS: "mysql://root@a:1,mysql://root@b:2" }),
    );
    if (!probe.available) throw new Error(probe.reason);
    const servers = await probe.start(5);
    expect(servers.shared).toBe(true);
    expect(servers.addresses.map((a) => a.host)).toEqual(["a", "b", "a", "b", "a"]);
  });
});
