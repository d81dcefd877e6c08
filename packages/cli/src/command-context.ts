import {
  type CredentialResolver,
  credentialResolver,
  type DirectoryAdmin,
  MysqlDirectoryStore,
} from "@shardkit/directory";
import { UsageError } from "./cli-errors.js";
import type { CliIo } from "./cli-io.js";
import { loadConfig, type ShardkitConfig } from "./config.js";
import { toJson } from "./output.js";

/** The options every command accepts (`shardkit --help`). */
export interface GlobalOptions {
  readonly directory?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** What a command's handler gets. Handlers return their result; they print nothing but notes. */
export interface CommandContext {
  /** The directory, opened on first use (so a bad URL is reported by the command that needs it). */
  readonly admin: DirectoryAdmin;
  /** The directory's URL with its password masked. */
  readonly directoryLocation: string;
  /** Shard passwords: environment first, then the config file. */
  readonly credentials: CredentialResolver;
  readonly config: ShardkitConfig;
  readonly io: CliIo;
  /** Whether `--json` was given. */
  readonly json: boolean;
  /** A note for people on stderr; stdout stays for the result. */
  note(message: string): void;
  /**
   * Streams one JSON line on stdout (a long command's progress). Once a command streamed, its
   * result and any failure print as one JSON line too, so stdout stays one JSON value per line.
   */
  line(value: Readonly<Record<string, unknown>>): void;
}

/** A context and the means to close whatever it opened. */
export interface OpenedContext extends CommandContext {
  /** Whether the command streamed JSON lines with {@link CommandContext.line}. */
  readonly streamed: boolean;
  close(): Promise<void>;
}

/** Builds the context of one command run: reads the config now, opens the directory lazily. */
export function openContext(options: GlobalOptions, io: CliIo): OpenedContext {
  const config = loadConfig(options.config, io.cwd);
  const credentials = credentialResolver(config.credentials, io.env);
  let store: MysqlDirectoryStore | undefined;
  let streamed = false;
  const open = (): MysqlDirectoryStore => {
    if (store) return store;
    // An empty SHARDKIT_DIRECTORY counts as unset.
    const directory = options.directory ?? (io.env.SHARDKIT_DIRECTORY || config.directory);
    if (!directory) {
      throw new UsageError(
        "USAGE",
        'no directory given: pass --directory mysql://user@host:port/database, set SHARDKIT_DIRECTORY, or put "directory" in shardkit.config.json',
      );
    }
    store = new MysqlDirectoryStore({ directory, credentials });
    return store;
  };
  return {
    get admin() {
      return open();
    },
    get directoryLocation() {
      return open().location;
    },
    credentials,
    config,
    io,
    json: options.json === true,
    note: (message) => io.stderr(`note: ${message}\n`),
    line: (value) => {
      streamed = true;
      io.stdout(toJson(value, true));
    },
    get streamed() {
      return streamed;
    },
    close: async () => {
      await store?.close();
    },
  };
}
