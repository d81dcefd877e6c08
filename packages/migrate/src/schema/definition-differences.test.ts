import { describe, expect, it } from "vitest";
import { definitionDifferences } from "./definition-differences.js";

const base = [
  "CREATE TABLE `orders` (",
  "  `id` bigint(20) NOT NULL,",
  "  `note` varchar(40) DEFAULT NULL,",
  "  PRIMARY KEY (`id`)",
  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
].join("\n");

describe("definitionDifferences", () => {
  it("finds none in equal definitions", () => {
    expect(definitionDifferences(base, base)).toEqual([]);
  });

  it("names a column defined otherwise, one missing and one extra", () => {
    const other = base
      .replace("varchar(40)", "varchar(80)")
      .replace("  PRIMARY KEY (`id`)", "  `extra` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`)");
    expect(definitionDifferences(base, other)).toEqual([
      "has `note` varchar(80) DEFAULT NULL where expected `note` varchar(40) DEFAULT NULL",
      "has extra `extra` int(11) DEFAULT NULL",
    ]);
    expect(definitionDifferences(other, base)).toEqual([
      "has `note` varchar(40) DEFAULT NULL where expected `note` varchar(80) DEFAULT NULL",
      "lacks `extra` int(11) DEFAULT NULL",
    ]);
  });

  it("names a different key and table options", () => {
    const other = base
      .replace("  PRIMARY KEY (`id`)", "  PRIMARY KEY (`id`),\n  KEY `by_note` (`note`)")
      .replace("utf8mb4", "latin1");
    expect(definitionDifferences(base, other)).toEqual([
      "has ) ENGINE=InnoDB DEFAULT CHARSET=latin1 where expected ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
      "has extra KEY `by_note` (`note`)",
    ]);
  });

  it("names columns in another order", () => {
    const other = base.replace(
      "  `id` bigint(20) NOT NULL,\n  `note` varchar(40) DEFAULT NULL,",
      "  `note` varchar(40) DEFAULT NULL,\n  `id` bigint(20) NOT NULL,",
    );
    expect(definitionDifferences(base, other)).toEqual(["has the same lines in another order"]);
  });
});
