/** The directory schema, as an ordered list of migrations; index + 1 is the schema version. */
export const DIRECTORY_MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS shardkit_directory (
      id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
      version BIGINT UNSIGNED NOT NULL,
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB`,
    "INSERT IGNORE INTO shardkit_directory (id, version) VALUES (1, 1)",
    `CREATE TABLE IF NOT EXISTS shardkit_shards (
      name VARCHAR(64) NOT NULL PRIMARY KEY,
      host VARCHAR(255) NOT NULL,
      port INT UNSIGNED NOT NULL,
      user VARCHAR(128) NOT NULL,
      database_name VARCHAR(64) NOT NULL,
      state ENUM('serving','draining') NOT NULL DEFAULT 'serving',
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY shard_location (host, port, database_name)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS shardkit_tables (
      name VARCHAR(64) NOT NULL PRIMARY KEY,
      key_column VARCHAR(64) NOT NULL,
      key_function VARCHAR(32) NOT NULL
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS shardkit_ranges (
      range_start BIGINT UNSIGNED NOT NULL PRIMARY KEY,
      range_end BIGINT UNSIGNED NOT NULL,
      shard VARCHAR(64) NOT NULL,
      state ENUM('serving','frozen','moving') NOT NULL DEFAULT 'serving',
      KEY ranges_by_shard (shard)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS shardkit_pins (
      key_bytes VARBINARY(255) NOT NULL PRIMARY KEY,
      key_text VARCHAR(255) NOT NULL,
      ksid BIGINT UNSIGNED NOT NULL,
      shard VARCHAR(64) NOT NULL,
      KEY pins_by_shard (shard)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS shardkit_heartbeats (
      id VARCHAR(128) NOT NULL PRIMARY KEY,
      host VARCHAR(255) NOT NULL,
      pid INT UNSIGNED NOT NULL,
      version BIGINT UNSIGNED NOT NULL,
      last_seen TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB`,
  ],
  [
    `CREATE TABLE IF NOT EXISTS shardkit_sequences (
      name VARCHAR(64) NOT NULL PRIMARY KEY,
      next_id BIGINT UNSIGNED NOT NULL
    ) ENGINE=InnoDB`,
  ],
  [
    // A pinned key has a state like a range's: moving, then frozen during its move's cutover.
    "ALTER TABLE shardkit_pins ADD COLUMN state ENUM('serving','frozen','moving') NOT NULL DEFAULT 'serving'",
    // States are text, not an ENUM, so a later state needs no table rebuild; readers check them.
    `CREATE TABLE IF NOT EXISTS shardkit_moves (
      id VARCHAR(36) NOT NULL PRIMARY KEY,
      kind ENUM('range','key') NOT NULL,
      range_start BIGINT UNSIGNED NOT NULL,
      range_end BIGINT UNSIGNED NOT NULL,
      key_bytes VARBINARY(255) NULL DEFAULT NULL,
      key_text VARCHAR(255) NULL DEFAULT NULL,
      source VARCHAR(64) NOT NULL,
      target VARCHAR(64) NOT NULL,
      state VARCHAR(32) NOT NULL,
      failed_in VARCHAR(32) NULL DEFAULT NULL,
      options TEXT NOT NULL,
      progress TEXT NOT NULL,
      error TEXT NULL,
      lease_owner VARCHAR(128) NULL DEFAULT NULL,
      lease_expires_at TIMESTAMP(3) NULL DEFAULT NULL,
      switched_version BIGINT UNSIGNED NULL DEFAULT NULL,
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY moves_by_state (state)
    ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS shardkit_move_events (
      move_id VARCHAR(36) NOT NULL,
      seq INT UNSIGNED NOT NULL,
      at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      state VARCHAR(32) NOT NULL,
      message TEXT NOT NULL,
      details TEXT NOT NULL,
      PRIMARY KEY (move_id, seq)
    ) ENGINE=InnoDB`,
  ],
  [
    // One row per `shardkit stats` run: totals to chart growth by, and the whole report as JSON.
    `CREATE TABLE IF NOT EXISTS shardkit_stats_snapshots (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      taken_at TIMESTAMP(3) NOT NULL,
      directory_version BIGINT UNSIGNED NOT NULL,
      sample_fraction DOUBLE NULL DEFAULT NULL,
      total_rows BIGINT UNSIGNED NOT NULL,
      total_bytes BIGINT UNSIGNED NOT NULL,
      report LONGTEXT NOT NULL,
      KEY stats_by_time (taken_at)
    ) ENGINE=InnoDB`,
  ],
  [
    // Reference tables: one writable copy in a source database, a read copy on every shard.
    // The source's login is its user; its password comes from the credentials by source name.
    `CREATE TABLE IF NOT EXISTS shardkit_reference_tables (
      name VARCHAR(64) NOT NULL PRIMARY KEY,
      source_name VARCHAR(64) NOT NULL,
      host VARCHAR(255) NOT NULL,
      port INT UNSIGNED NOT NULL,
      user VARCHAR(128) NOT NULL,
      database_name VARCHAR(64) NOT NULL,
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB`,
  ],
];

/** The schema version this code writes and understands. */
export const DIRECTORY_SCHEMA_VERSION = DIRECTORY_MIGRATIONS.length;

/** The table recording which migrations have been applied. */
export const SCHEMA_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS shardkit_schema_version (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB`;
