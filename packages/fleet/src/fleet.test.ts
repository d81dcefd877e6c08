import { describe, expect, it } from "vitest";
import { startFleet } from "./fleet.js";

describe("startFleet without servers", () => {
  it.each([0, -1, 1.5, Number.NaN])("refuses %s servers with BAD_OPTIONS", async (servers) => {
    await expect(startFleet({ servers })).rejects.toMatchObject({ code: "BAD_OPTIONS" });
  });

  it("refuses an unknown or empty backend list with BAD_OPTIONS", async () => {
    const unknown = ["env", "cloud"] as unknown as readonly ["env"];
    await expect(startFleet({ servers: 1, backends: unknown })).rejects.toMatchObject({
      code: "BAD_OPTIONS",
    });
    await expect(startFleet({ servers: 1, backends: [] })).rejects.toMatchObject({
      code: "BAD_OPTIONS",
    });
  });

  it("says NO_BACKEND, why each backend was skipped, and how to fix it", async () => {
    const error = await startFleet({
      servers: 2,
      backends: ["env", "local"],
      binarySearchPath: [],
      env: {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NO_BACKEND", name: "FleetError" });
    const message = (error as Error).message;
    expect(message).toContain("apt-get install mariadb-server");
    expect(message).toContain("start Docker");
    expect(message).toContain("SHARDKIT_MYSQL_URLS");
    expect(message).toContain("env: SHARDKIT_MYSQL_URLS is not set");
    expect(message).toContain("local: no mariadbd or mysqld");
  });

  it("rejects a bad SHARDKIT_MYSQL_URLS rather than falling back, without the password", async () => {
    const error = await startFleet({
      servers: 1,
      env: { SHARDKIT_MYSQL_URLS: "postgres://u:topsecret@h/x" },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_URL" });
    expect((error as Error).message).not.toContain("topsecret");
  });

  it("rejects with ABORTED when the signal has already fired", async () => {
    await expect(
      startFleet({ servers: 1, signal: AbortSignal.abort(new Error("no thanks")) }),
    ).rejects.toMatchObject({ code: "ABORTED" });
  });
});
