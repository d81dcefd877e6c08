import type { BackendContext, BackendServers, ServerBackend } from "../backend.js";
import { describeError, FleetError, throwIfAborted } from "../errors.js";

const IMAGE = "mysql:8.0";
/** How long a container runtime may take to answer before the backend counts as absent. */
const PROBE_TIMEOUT_MS = 5000;
/** Pulling the image the first time can take a while. */
const STARTUP_TIMEOUT_MS = 180_000;

/** Why no container runtime can be used, or undefined when one answers within `timeoutMs`. */
async function runtimeUnavailable(timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // Loaded only here, so a machine without a container runtime pays nothing for it.
    const { getContainerRuntimeClient } = await import("testcontainers");
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`no container runtime answered within ${timeoutMs / 1000} s`),
        timeoutMs,
      );
      timer.unref();
    });
    const probe = getContainerRuntimeClient().then(
      () => undefined,
      (error: unknown) => `no container runtime: ${describeError(error)}`,
    );
    return await Promise.race([probe, timeout]);
  } catch (error) {
    return `testcontainers cannot be loaded: ${describeError(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

async function startContainers(count: number, context: BackendContext): Promise<BackendServers> {
  const { GenericContainer, Wait } = await import("testcontainers");
  throwIfAborted(context.signal, "starting containers");
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
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
          ...context.serverArgs,
        ])
        .withExposedPorts(3306)
        // The entrypoint first runs a temporary server on port 0; the real one says port: 3306.
        .withWaitStrategy(Wait.forLogMessage(/ready for connections.*port: 3306/))
        .withStartupTimeout(STARTUP_TIMEOUT_MS)
        .start(),
    ),
  );
  const containers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    const stopped = await Promise.allSettled(containers.map((c) => c.stop()));
    const failure = stopped.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed || context.signal?.aborted) {
    await stopAll().catch(() => undefined);
    throwIfAborted(context.signal, "starting containers");
    throw new FleetError(
      "START_FAILED",
      `could not start a ${IMAGE} container: ${describeError(failed?.reason)}`,
      { cause: failed?.reason },
    );
  }
  return {
    addresses: containers.map((c) => ({
      host: c.getHost(),
      port: c.getMappedPort(3306),
      user: "root",
      password: "",
    })),
    shared: false,
    release: stopAll,
  };
}

/**
 * MySQL 8.0 containers through testcontainers, used only where a container runtime answers.
 * testcontainers' reaper removes them should this process die without stop().
 */
export const containerBackend: ServerBackend = {
  kind: "container",
  async probe(context) {
    const reason = await runtimeUnavailable(PROBE_TIMEOUT_MS);
    if (reason) return { available: false, reason };
    return { available: true, start: (count) => startContainers(count, context) };
  },
};
