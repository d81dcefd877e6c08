import type { SqlConnection } from "@shardkit/directory/internal";
import { mariadbFlavour } from "./mariadb-flavour.js";
import { mysqlFlavour } from "./mysql-flavour.js";
import type { ServerFlavour } from "./server-flavour.js";

/** The flavour of the server behind `conn`, from its version string. */
export async function detectFlavour(conn: SqlConnection): Promise<ServerFlavour> {
  const rows = await conn.query<{ version: string }>("SELECT VERSION() AS version");
  return /mariadb/i.test(String(rows[0]?.version ?? "")) ? mariadbFlavour : mysqlFlavour;
}
