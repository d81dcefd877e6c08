#!/usr/bin/env python3
"""A client of the shardkit directory service in Python, standard library only.

Routes keys through the service's HTTP API (`shardkit directory serve`), so a program in any
language finds the shard of a key without the directory database's credentials.

As a library:

    client = DirectoryClient("http://127.0.0.1:7420", token=os.environ["SHARDKIT_SERVICE_TOKEN"])
    client.route(42)                        # {"ksid": "bc58a436", "range": "80-c0", "shard": "s2", ...}
    client.route_many([42, "alice", b"\\x00\\x01"])
    version = client.watch(since=client.version())   # returns once the directory changes

As a check (what the test suite runs): route the test vectors of docs/keyspace.md and compare
each keyspace id with the table, and each shard with the owner of the range holding it:

    python3 examples/directory_client.py --url http://127.0.0.1:7420 --vectors docs/keyspace.md

Keys travel as JSON: strings as strings, integers within 2^53 - 1 as numbers, larger integers
as their decimal digits in a string (an integer's canonical bytes are its digits, so both route
alike), bytes as {"hex": "..."}.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

MAX_SAFE_INTEGER = 2**53 - 1


class ServiceError(Exception):
    """An error answer of the service: its code and one-line message."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code


def wire_key(key):
    """A Python key as the service reads it."""
    if isinstance(key, (bytes, bytearray)):
        return {"hex": bytes(key).hex()}
    if isinstance(key, bool):
        raise TypeError("a key is a string, an integer or bytes, not a bool")
    if isinstance(key, int):
        return key if abs(key) <= MAX_SAFE_INTEGER else str(key)
    if isinstance(key, str):
        return key
    raise TypeError(f"a key is a string, an integer or bytes, got {type(key).__name__}")


class DirectoryClient:
    """The directory service's API: lookups, the map, and the watch long poll."""

    def __init__(self, url, token=None, timeout=10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method, path, body=None, timeout=None):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                err = json.loads(error.read())["error"]
            except Exception:
                raise ServiceError(error.code, "HTTP_ERROR", str(error)) from None
            raise ServiceError(error.code, err["code"], err["message"]) from None

    def route(self, key, table=None):
        """Where one key lives (sent as text, as a query parameter)."""
        if isinstance(key, (bytes, bytearray)):
            return self.route_many([key], table)["results"][0]
        params = {"key": str(key)}
        if table:
            params["table"] = table
        return self._request("GET", "/v1/route?" + urllib.parse.urlencode(params))

    def route_many(self, keys, table=None):
        """Where many keys live: {"version", "results": [...], "shards": {...}}."""
        body = {"keys": [wire_key(k) for k in keys]}
        if table:
            body["table"] = table
        return self._request("POST", "/v1/route", body)

    def version(self):
        return self._request("GET", "/v1/version")["version"]

    def ranges(self):
        return self._request("GET", "/v1/ranges")

    def watch(self, since, timeout=30):
        """Waits until the directory's version moves past `since` (or `timeout` s); returns the version."""
        path = f"/v1/watch?since={int(since)}&timeout={int(timeout)}"
        return self._request("GET", path, timeout=timeout + 10)["version"]


def read_vectors(path):
    """The rows of the "## Test vectors" table of docs/keyspace.md: (type, key, ksid)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("## Test vectors", 1)[1].splitlines()
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("type", "") or set(cells[0]) <= {"-", " "}:
            continue
        kind, value, _canonical, ksid = cells
        if kind in ("integer", "bigint"):
            key = int(value)
        elif kind == "string":
            key = json.loads(value)
        elif kind == "bytes":
            key = bytes.fromhex(value)
        else:
            raise ValueError(f"unknown key type {kind!r} in {path}")
        rows.append((kind, value, key, ksid))
    if not rows:
        raise ValueError(f"no test vectors found in {path}")
    return rows


def owner_of(ranges, ksid):
    for r in ranges:
        if r["start"] <= ksid < r["end"]:
            return r["shard"]
    return None


def check_vectors(client, path):
    """Routes every vector, one batch and one request per text key; returns the mismatches."""
    rows = read_vectors(path)
    answer = client.route_many([key for _, _, key, _ in rows])
    layout = client.ranges()
    pinned = {p["ksid"] for p in layout["pins"]}
    problems = []
    for (kind, value, key, ksid), got in zip(rows, answer["results"]):
        if "error" in got:
            problems.append(f"{kind} {value}: refused: {got['error']['message']}")
            continue
        if got["ksid"] != ksid:
            problems.append(f"{kind} {value}: ksid {got['ksid']}, expected {ksid}")
        owner = owner_of(layout["ranges"], int(ksid, 16))
        if got["shard"] != owner and ksid not in pinned:
            problems.append(f"{kind} {value}: shard {got['shard']}, the range owner is {owner}")
        if not isinstance(key, bytes) and not (kind == "string" and "\\u" in value):
            single = client.route(key)
            if single["ksid"] != ksid:
                problems.append(f"{kind} {value}: GET gave ksid {single['ksid']}, expected {ksid}")
    return len(rows), problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SHARDKIT_SERVICE_URL", "http://127.0.0.1:7420"))
    parser.add_argument("--token", default=os.environ.get("SHARDKIT_SERVICE_TOKEN"))
    parser.add_argument("--vectors", default="docs/keyspace.md", help="the file with the test vectors")
    args = parser.parse_args(argv)
    client = DirectoryClient(args.url, args.token)
    try:
        count, problems = check_vectors(client, args.vectors)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"mismatch: {p}", file=sys.stderr)
    print(json.dumps({"vectors": count, "mismatches": len(problems)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
