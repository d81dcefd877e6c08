import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "./cli-errors.js";
import { loadConfig } from "./config.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shardkit-config-"));
  mkdirSync(join(dir, "a-directory"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe("loadConfig", () => {
  it("reads the directory, credentials and the service token", () => {
    const config = {
      $schema: "./schema.json",
      directory: "mysql://shardkit@db:3306/shardkit",
      credentials: { default: "d", shards: { s1: "one" } },
      service: { token: "t0ken" },
    };
    expect(loadConfig(write("good.json", JSON.stringify(config)), dir)).toEqual(config);
  });

  it("reads ./shardkit.config.json when no file is named, and is empty without one", () => {
    const empty = mkdtempSync(join(tmpdir(), "shardkit-config-none-"));
    try {
      expect(loadConfig(undefined, empty)).toEqual({});
      writeFileSync(join(empty, "shardkit.config.json"), '{"directory": "mysql://r@h/d"}');
      expect(loadConfig(undefined, empty)).toEqual({ directory: "mysql://r@h/d" });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  const bad: [string, string | undefined, RegExp][] = [
    ["a missing file", undefined, /does not exist; check --config/],
    ["a directory", "a-directory", /is not a file/],
    ["invalid JSON", "{ nope", /not valid JSON .*; fix it/],
    ["an array", "[]", /must hold a JSON object/],
    ["null", "null", /must hold a JSON object/],
    ["a number", "42", /must hold a JSON object/],
    [
      "an unknown key",
      '{"directroy": "mysql://h/d"}',
      /unknown key "directroy".*directory, credentials, service/,
    ],
    [
      "a directory that is not a string",
      '{"directory": 5}',
      /"directory" .* must be a mysql:\/\/ URL/,
    ],
    ["null credentials", '{"credentials": null}', /"credentials" .* must look like/],
    ["credentials as an array", '{"credentials": ["pw"]}', /"credentials" .* must look like/],
    ["credentials as a string", '{"credentials": "pw"}', /"credentials" .* must look like/],
    ["a default that is not a string", '{"credentials": {"default": 1}}', /must look like/],
    ["shards as an array", '{"credentials": {"shards": ["pw"]}}', /must look like/],
    [
      "a shard password that is not a string",
      '{"credentials": {"shards": {"s1": 1}}}',
      /credentials\.shards\.s1.*password string/,
    ],
    [
      "an unknown credentials key",
      '{"credentials": {"shard": {}}}',
      /unknown key "credentials\.shard"/,
    ],
    ["a service that is not an object", '{"service": "t"}', /"service" .* must look like/],
    ["an unknown service key", '{"service": {"tokens": "t"}}', /unknown key "service\.tokens"/],
    ["an empty service token", '{"service": {"token": ""}}', /"service\.token" .* non-empty/],
  ];

  it.each(bad)("refuses %s with one usage line", (what, text, message) => {
    const name =
      text === undefined
        ? "missing.json"
        : text === "a-directory"
          ? text
          : write(`${what}.json`, text);
    let thrown: unknown;
    try {
      loadConfig(name, dir);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    const error = thrown as UsageError;
    expect(error.code).toBe("BAD_CONFIG");
    expect(error.message).not.toContain("\n");
    expect(error.message).toMatch(message);
    expect(error.message).toContain(join(dir, name));
  });
});
