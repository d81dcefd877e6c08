import type { ServerAddress } from "../fleet-server.js";

/** A server running in a container, and how to stop it. */
export interface ContainerServer {
  readonly address: ServerAddress;
  stop(): Promise<void>;
}

const IMAGE = "mysql:8.0";

/** True when a container runtime answers within `timeoutMs`; testcontainers is only loaded here. */
export async function containerRuntimeAvailable(timeoutMs = 5000): Promise<boolean> {
  try {
    const tc = await import("testcontainers");
    const probe = tc.getContainerRuntimeClient().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), timeoutMs).unref(),
    );
    return await Promise.race([probe, timeout]);
  } catch {
    return false;
  }
}

/** Starts `n` MySQL 8 containers in parallel with row binlog on and distinct server ids. */
export async function startContainers(
  n: number,
  extraArgs: readonly string[] = [],
): Promise<ContainerServer[]> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      new GenericContainer(IMAGE)
        .withEnvironment({ MYSQL_ALLOW_EMPTY_PASSWORD: "yes", MYSQL_ROOT_HOST: "%" })
        .withCommand([
          `--server-id=${i + 1}`,
          "--log-bin",
          "--binlog-format=ROW",
          "--gtid-mode=ON",
          "--enforce-gtid-consistency=ON",
          "--skip-name-resolve",
          "--performance-schema=OFF",
          ...extraArgs,
        ])
        .withExposedPorts(3306)
        .withWaitStrategy(Wait.forLogMessage(/ready for connections.*port: 3306/))
        .withStartupTimeout(120_000)
        .start(),
    ),
  );
  const containers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(containers.map((c) => c.stop().catch(() => undefined)));
    throw failed.reason;
  }
  return containers.map((c) => ({
    address: { host: c.getHost(), port: c.getMappedPort(3306), user: "root", password: "" },
    stop: async () => {
      await c.stop();
    },
  }));
}
