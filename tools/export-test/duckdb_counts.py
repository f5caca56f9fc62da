#!/usr/bin/env python3
"""Load exported records into DuckDB and print what the export tests compare.

    duckdb_counts.py PATH_OR_GLOB [--hive]

PATH_OR_GLOB is an NDJSON file (plain or gzip'd), or a glob over NDJSON or Parquet
partition files (Parquet when it ends in .parquet); --hive reads the account=/region=/
date= folders as columns (account and region as text, so that an account id keeps its
leading zeros). Prints one JSON object:
the column types DuckDB inferred, the number of records, counts by eventName, by
log_key and by status, the distinct (log_key, account, region, date) partitions when
--hive is given, and the smallest and largest eventTime.
"""

import json
import sys

import duckdb


def main():
    path = sys.argv[1]
    hive = '--hive' in sys.argv[2:]
    con = duckdb.connect()
    # A view cannot take parameters: the path goes in as a quoted SQL string.
    quoted = "'" + path.replace("'", "''") + "'"
    partitions = (", hive_partitioning=true, hive_types={'account': 'VARCHAR', 'region': 'VARCHAR', "
                  "'date': 'DATE'}") if hive else ""
    if path.endswith('.parquet'):
        source = f"read_parquet({quoted}{partitions})"
    else:
        source = f"read_json({quoted}, format='newline_delimited'{partitions})"
    con.execute(f"CREATE VIEW events AS SELECT * FROM {source}")
    types = {name: str(kind) for name, kind in con.execute(
        "SELECT column_name, column_type FROM (DESCRIBE events)").fetchall()}

    def counts(column):
        return dict(con.execute(
            f"SELECT {column}, count(*) FROM events GROUP BY {column} ORDER BY {column}").fetchall())

    out = {
        'types': types,
        'records': con.execute("SELECT count(*) FROM events").fetchone()[0],
        'by_event_name': counts('eventName'),
        'by_log': counts('log_key'),
        'by_status': counts('status'),
        'time_range': [str(t) for t in con.execute(
            "SELECT min(eventTime)::VARCHAR, max(eventTime)::VARCHAR FROM events").fetchone()],
    }
    if hive:
        out['partitions'] = [list(r) for r in con.execute(
            "SELECT DISTINCT log_key, account, region, date::VARCHAR FROM events ORDER BY log_key").fetchall()]
    print(json.dumps(out, default=str))


if __name__ == '__main__':
    main()
