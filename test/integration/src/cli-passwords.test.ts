import { parseMysqlUrl, shardPasswordVariable } from "@shardkit/directory";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, expectRefusal, runCli, sql } from "./cli-harness.js";

// One password per character that URLs treat specially, each the password of its own account.
const SPECIALS = ["@", ":", "/", "%", "#", "?", "+", " "];
const accounts = SPECIALS.map((c, i) => ({ char: c, user: `qa_pw${i}`, password: `Kq7${c}Zv9w` }));

let fleet: Fleet;
let server: FleetServer;

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
  const [first] = fleet.servers;
  if (!first) throw new Error("fleet started no server");
  server = first;
  for (const { user, password } of accounts) {
    await sql(
      server.adminUrl,
      `DROP USER IF EXISTS '${user}'@'%'`,
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`,
    );
  }
});

afterAll(async () => {
  // Servers given through SHARDKIT_MYSQL_URLS outlive the fleet: leave no account behind.
  if (server) {
    await sql(server.adminUrl, ...accounts.map((x) => `DROP USER IF EXISTS '${x.user}'@'%'`));
  }
  await fleet?.stop();
});

/** Every piece of `secret` of 3 characters or more that occurs in what the run printed. */
function leaks(secret: string, run: CliRun): string[] {
  const printed = run.stdout + run.stderr;
  const found = new Set<string>();
  for (let i = 0; i < secret.length; i++) {
    for (let j = i + 3; j <= secret.length; j++) {
      if (printed.includes(secret.slice(i, j))) found.add(secret.slice(i, j));
    }
  }
  return [...found];
}

/** `mysql://user:<password as written>@host:port/database` on the fleet server. */
function urlWith(user: string, written: string, database: string): string {
  return `mysql://${user}:${written}@${server.host}:${server.port}/${database}`;
}

describe.each(accounts)("a password holding $char", ({ user, password }) => {
  it("connects when percent-encoded, through --directory and shard add, and is never printed", async () => {
    const directory = urlWith(user, encodeURIComponent(password), `sk_pwdir_${user}`);
    const shardDb = parseMysqlUrl(await server.createDatabase("pwshard")).database;
    const shard = urlWith(user, encodeURIComponent(password), shardDb);
    const runs: CliRun[] = [];
    const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await runCli(["--directory", directory, ...args], { env });
      runs.push(r);
      return r;
    };
    try {
      const init = await run(["init"]);
      expect(init).toMatchObject({ code: 0, stderr: "" });
      expect(init.stdout).toContain(`mysql://${user}:***@`);
      const added = await run(["--json", "shard", "add", "s1", shard]);
      expect(added.code).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ shard: { name: "s1", user } });
      expect(added.stderr).toMatch(new RegExp(`note: .*set ${shardPasswordVariable("s1")}`));
      // Later commands reach the shard with the password from the environment, as is.
      const doctor = await run(["doctor"], { [shardPasswordVariable("s1")]: password });
      expect(doctor.code, doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/every shard is in step/);
      const wrongPassword = { [shardPasswordVariable("s1")]: `${password}!` };
      const wrong = await run(["--json", "table", "add", "t", "--key", "id"], wrongPassword);
      expect(wrong.code).toBe(5);
      expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { code: "SHARD_UNAVAILABLE" } });
      const unchecked = await run(["--json", "doctor"], wrongPassword);
      expect(unchecked.code).toBe(5);
      expect(JSON.parse(unchecked.stdout)).toMatchObject({
        error: { code: "SHARD_UNAVAILABLE", message: expect.stringMatching(/s1 is unreachable/) },
      });
      for (const r of runs) expect(leaks(password, r)).toEqual([]);
    } finally {
      await sql(server.adminUrl, `DROP DATABASE IF EXISTS \`sk_pwdir_${user}\``);
    }
  });

  it("is never printed when written raw, whether the URL parses or not", async () => {
    const dirDb = `sk_pwraw_${user}`;
    const raw = urlWith(user, password, dirDb);
    const rawShard = urlWith(
      user,
      password,
      parseMysqlUrl(await server.createDatabase("pwraw")).database,
    );
    const runs: CliRun[] = [];
    const run = async (args: string[]) => {
      const r = await runCli(args);
      runs.push(r);
      return r;
    };
    try {
      for (const json of [[], ["--json"]]) {
        const init = await run([...json, "--directory", raw, "init"]);
        const added = await run([...json, "--directory", raw, "shard", "add", "s9", rawShard]);
        if (password.includes("%")) {
          // "%Zv" is no percent-escape: the URL is refused, and says how to write it.
          expectRefusal(init, 2, /percent-escape \(write % as %25\)/);
          expectRefusal(added, 2, /invalid MySQL URL/);
          expect(init.stderr).toContain("mysql://user[:password]@host[:port]/database");
        } else {
          // The raw password runs to the last @ and still reaches the server.
          expect(init.code, init.stderr).toBe(0);
          // Added once; the second round finds it registered.
          expect(added.code, added.stderr).toBe(json.length > 0 ? 4 : 0);
        }
        if (json.length > 0) {
          expect(JSON.parse(init.stdout)).toBeTypeOf("object");
          expect(JSON.parse(added.stdout)).toBeTypeOf("object");
        }
      }
      const denied = await run(["--directory", urlWith(user, `Wr${password}`, dirDb), "ranges"]);
      expect(denied.code, denied.stderr).toBe(password.includes("%") ? 2 : 5);
      for (const r of runs) expect(leaks(password, r)).toEqual([]);
    } finally {
      await sql(server.adminUrl, `DROP DATABASE IF EXISTS \`${dirDb}\``);
    }
  });
});

describe("a URL whose password breaks the URL form", () => {
  it("is reported without any piece of the password, with the form to write", async () => {
    const password = "Pw@:/%x1";
    const r = await runCli([
      "--json",
      "--directory",
      `mysql://qa:${password}@127.0.0.1:3306/app`,
      "ranges",
    ]);
    expectRefusal(r, 2, /invalid MySQL URL "mysql:\/\/qa:\*\*\*@127\.0\.0\.1:3306\/app"/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: "BAD_URL" } });
    expect(r.stderr).toContain(
      "write it as mysql://user[:password]@host[:port]/database, with special characters in the password percent-encoded (%40 for @)",
    );
    expect(leaks(password, r)).toEqual([]);
  });
});
