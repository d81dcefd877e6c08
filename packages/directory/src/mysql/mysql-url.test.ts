import { describe, expect, it } from "vitest";
import { ShardkitError } from "../errors/shardkit-error.js";
import { thrownBy } from "../testing/thrown.js";
import { formatEndpoint, parseMysqlUrl, redactSecrets, redactUrl } from "./mysql-url.js";

/** Every piece of `secret` of 3 characters or more that occurs in `text`. */
function leakedFragments(secret: string, text: string): string[] {
  const leaks = new Set<string>();
  for (let i = 0; i < secret.length; i++) {
    for (let j = i + 3; j <= secret.length; j++) {
      const piece = secret.slice(i, j);
      if (text.includes(piece)) leaks.add(piece);
    }
  }
  return [...leaks];
}

const HINT = "mysql://user[:password]@host[:port]/database";

// One password per character that URLs treat specially, and one holding them all.
const passwords = [
  "Qw@rt9z",
  "Qw:rt9z",
  "Qw/rt9z",
  "Qw%rt9z",
  "Qw#rt9z",
  "Qw?rt9z",
  "Qw+rt9z",
  "Qw rt9z",
  "Pw@:/%#?+ x1",
];

describe("parseMysqlUrl", () => {
  it("reads every part, with defaults for the user and the port", () => {
    expect(parseMysqlUrl("mysql://app:s3cret@db-1.example:3307/shop")).toEqual({
      host: "db-1.example",
      port: 3307,
      user: "app",
      password: "s3cret",
      database: "shop",
    });
    expect(parseMysqlUrl("mariadb://@10.0.0.1")).toEqual({
      host: "10.0.0.1",
      port: 3306,
      user: "root",
      password: "",
      database: "",
    });
    expect(parseMysqlUrl("MYSQL://qa@[::1]:3308/app?ssl=true")).toMatchObject({
      host: "::1",
      port: 3308,
      database: "app",
    });
    expect(parseMysqlUrl("mysql://a%40corp:p@h/db%2Dx")).toMatchObject({
      user: "a@corp",
      password: "p",
      database: "db-x",
    });
  });

  it.each(passwords)("reads the percent-encoded password %j", (password) => {
    const url = `mysql://qa:${encodeURIComponent(password)}@127.0.0.1:3306/app`;
    expect(parseMysqlUrl(url)).toEqual({
      host: "127.0.0.1",
      port: 3306,
      user: "qa",
      password,
      database: "app",
    });
  });

  it.each(passwords.filter((p) => !p.includes("%")))("reads the raw password %j", (password) => {
    expect(parseMysqlUrl(`mysql://qa:${password}@127.0.0.1:3306/app`)).toEqual({
      host: "127.0.0.1",
      port: 3306,
      user: "qa",
      password,
      database: "app",
    });
  });

  it.each([
    ["mysql://qa:Pw@:/%x1@127.0.0.1:3306/app", "Pw@:/%x1", /percent-escape/],
    ["mysql://qa:Qw%rt9z@127.0.0.1:3306/app", "Qw%rt9z", /write % as %25/],
    ["mysql://qa:Qw rt9z@:3306/app", "Qw rt9z", /names no host/],
    ["mysql://qa:Qw#rt9z@127.0.0.1:99999/app", "Qw#rt9z", /port/],
    ["mysql://qa:Qw/rt9z@127.0.0.1/a/b", "Qw/rt9z", /single database/],
    ["mysql://qa:Zx7secret/app", "Zx7secret", /port/],
    ["postgres://qa:Qw@rt9z@127.0.0.1/app", "Qw@rt9z", /scheme must be mysql/],
    ["qa:Qw@rt9z@127.0.0.1/app", "Qw@rt9z", /not a URL/],
    ["mysql://qa:Qw@rt9z@bad host/app", "Qw@rt9z", /host name/],
  ])("refuses %s without any piece of its password", (url, password, why) => {
    const error = thrownBy(() => parseMysqlUrl(url), ShardkitError, "BAD_URL");
    expect(error.message).toMatch(why);
    expect(error.message).toContain(HINT);
    expect(leakedFragments(password, error.message)).toEqual([]);
    // The CLI masks every message once more: the hint must survive that untouched.
    expect(redactUrl(error.message)).toBe(error.message);
  });
});

describe("redactUrl", () => {
  it.each(passwords)("masks the whole password %j, raw or percent-encoded", (password) => {
    for (const written of [password, encodeURIComponent(password)]) {
      const text = `cannot reach mysql://qa:${written}@127.0.0.1:3306/app: connect ECONNREFUSED; retry`;
      const masked = redactUrl(text);
      expect(masked).toBe(
        "cannot reach mysql://qa:***@127.0.0.1:3306/app: connect ECONNREFUSED; retry",
      );
      expect(leakedFragments(password, masked)).toEqual([]);
    }
  });

  it("masks each of several URLs and leaves prose and URLs without a password alone", () => {
    expect(redactUrl('from "mysql://a:p@1@h1:1/x" to mysql://b:p:2@[::1]/y, done')).toBe(
      'from "mysql://a:***@h1:1/x" to mysql://b:***@[::1]/y, done',
    );
    const prose =
      "mysql://qa@127.0.0.1:3306/app: Access denied for user 'qa'@'localhost' (using password: YES)";
    expect(redactUrl(prose)).toBe(prose);
    expect(redactUrl("no URL here: a@b")).toBe("no URL here: a@b");
    expect(redactUrl(`write it as ${HINT}`)).toBe(`write it as ${HINT}`);
    expect(redactUrl("mysql://qa:Zx7secret@")).toBe("mysql://qa:***@");
  });

  it("masks given secrets wherever they appear", () => {
    expect(redactSecrets("user qa with Zx7secret at mysql://qa:Zx7secret@h/d", ["Zx7secret"])).toBe(
      "user qa with *** at mysql://qa:***@h/d",
    );
  });
});

describe("formatEndpoint", () => {
  it.each(passwords)("shows the password %j as ***", (password) => {
    const endpoint = parseMysqlUrl(`mysql://qa:${encodeURIComponent(password)}@127.0.0.1/app`);
    const shown = formatEndpoint(endpoint);
    expect(shown).toBe("mysql://qa:***@127.0.0.1:3306/app");
    expect(leakedFragments(password, shown)).toEqual([]);
    expect(parseMysqlUrl(shown)).toMatchObject({ host: "127.0.0.1", user: "qa", database: "app" });
  });

  it("brackets an IPv6 host and leaves out an empty password and database", () => {
    expect(formatEndpoint({ host: "::1", port: 3307, user: "root", database: "" })).toBe(
      "mysql://root@[::1]:3307",
    );
  });
});
