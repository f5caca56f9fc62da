#!/usr/bin/env python3
# Records what python-dateutil's parser makes of realistic --start-time/--end-time
# values, for the Rust port in cloudtrail-digest/src/dateparse.rs.
#
# Usage: python3 tools/dateutil_cases.py   (needs python-dateutil 2.x)
# Writes cloudtrail-digest/tests/data/dateutil_cases.json: for each input, whether
# `dateutil.parser.parse(input, default=datetime(2026, 11, 22))` accepts it and, if so,
# the naive wall-clock fields (YYYY-MM-DDTHH:MM:SS.ffffff) and the UTC offset in
# seconds (null when the result is naive). The Rust unit test
# `dateparse::tests::matches_recorded_dateutil_results` checks every entry.
#
# The script runs with TZ=UTC: dateutil attaches the *local* zone to a zone name that
# matches it, so results would otherwise depend on the host. Two-digit years are
# resolved by dateutil against the clock's year and by the Rust port against the
# default date's year; the cases below use two-digit years far from that +-50 year
# pivot, and the script refuses to run when the clock is far from the default year.
#
# Accepted by dateutil but deliberately NOT supported by the Rust port, and therefore
# kept out of the JSON (the script checks that dateutil still accepts each of them):
#   "Monday"                          a weekday without a day: dateutil moves to the next
#                                     such weekday after the default date (relative)
#   "2015-01-08 05:21 MON"            weekday names anywhere but at the start
#   "0521"                            years below 1000 (dateutil: year 521), and years
#                                     written with 3 or 5+ digits ("Jan 8 123")
#   "13PM"                            AM/PM after a bare hour above 12 (dateutil: 13:00;
#   "Jan 8 13 PM"                     it rejects "2015-01-08 13 PM" and "13:00 PM")
#   "2015-01-08 05:21 GMT+3"          zone name followed by an offset: dateutil inverts
#   "2015-01-08T05:21:42Z+02:00"      the sign POSIX-style (GMT+3 means UTC-3)
#   "2015-01-08 05:21 UTC +02:00"     two zones (dateutil keeps UTC here)
#   "2015-01-08 05:21:42 +0000 (UTC)" a zone name in parentheses
#   "2015-01-08 05:21 PT"             zone names of 1-2 letters ("PT", "M", "AZ")
#   "2015-01-08 05:21 HOURS"          h/m/s unit words ("5h30m", "HOURS")
#   "5h30m"
#   "January 08,2015"                 a comma glued between two numbers: dateutil reads
#                                     "08,2015" as the decimal 8.2015 and loses the year
#   "2015.01"                         a single dotted number (dateutil: year 2015)
#   "2015-01-08."                     punctuation or filler words anywhere else than
#   "-2015-01-08"                     described in dateparse.rs (trailing "." or ",",
#   "8th of January 2015"             leading "-", "of", "on", "and", ";", "'", ...)
#   "2015-01-08T 05:21"               "T" with spaces around it, or "T" before a time
#   "T05:21"                          without a date
#   "January 8 at 5"                  a bare number after an incomplete date: dateutil
#   "01/07T15"                        takes it as the year (2005, 2015)
#   "05:21 2015-01-08"                a time before the date
#   "2015-01-08 05:21.5"              fractional minutes or hours
#   "2015-01-08 005:21"               time fields with more than two digits
#   "Jan.8.2015"                      a month name followed by dotted numbers
#   "Jan05:21"                        a month name glued to a time
#   "２０１５-01-08"                    non-ASCII digits
#   "2015-01-08\x00"                  NUL characters (dateutil skips them)
# Zone names other than UTC/GMT/Z (3-5 capitals such as "EST") ARE supported: dateutil
# keeps them without an offset (on a UTC host), and so does the port.

import json
import os
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

import dateutil  # noqa: E402  (after tzset on purpose)
from dateutil import parser  # noqa: E402

DEFAULT = datetime(2026, 11, 22)
OUT = Path(__file__).resolve().parent.parent / "cloudtrail-digest/tests/data/dateutil_cases.json"

CASES = [
    # ISO 8601
    "2015-01-08T05:21:42Z",
    "2015-01-08T05:21:42.123Z",
    "2015-01-08T05:21:42.123456Z",
    "2015-01-08T05:21:42.1234567Z",
    "2015-01-08T05:21:42,5Z",
    "2015-01-08T05:21:42+02:00",
    "2015-01-08T05:21:42+0200",
    "2015-01-08T05:21:42-05",
    "2015-01-08T05:21:42-05:30",
    "2015-01-08T05:21:42-00:00",
    "2015-01-08T05:21:42 +05:30",
    "2015-01-08T05:21:42 UTC",
    "2015-01-08T05:21:42UTC",
    "2015-01-08T05:21:42 GMT",
    "2015-01-08T05:21:42 EST",
    "2015-01-08t05:21:42z",
    "2015-01-08",
    "2015-01-08T05",
    "2015-01-08T05:21",
    "2015-01-08T0521",
    "2015-01-08T052142",
    # compact
    "20150108",
    "20150108T052142Z",
    "20160129T19:00:00Z",
    "20150108T0521",
    "20150108T05",
    "201501080521",
    "20150108052142",
    "20150108T052142.5+0100",
    "150108",
    "991231",
    # space separated
    "2015-01-08 05:21",
    "2015-01-08 05:21:42.123",
    "2015-01-08  05:21",
    "  2015-01-08 05:21  ",
    "2015-01-08\t05:21",
    "2015-01-08\u00a005:21",
    "2015-1-8 5:21",
    # slashes, dots, partial dates
    "2015/01/08",
    "01/08/2015",
    "13/08/2015",
    "1/8/2015 17:21",
    "01/08/15",
    "08.01.2015",
    "2015.01.08",
    "2015-01",
    "01/2015",
    "01/08",
    # month and weekday names
    "Jan 8 2015",
    "8 January 2015 05:21",
    "January 8, 2015 5:21 PM",
    "January 8th, 2015 at 5:21 PM",
    "Jan. 8, 2015",
    "08-Jan-2015",
    "Jan-08-2015",
    "2015-Jan-08",
    "08Jan2015",
    "Jan8 2015",
    "Thu, 08 Jan 2015 05:21:42 GMT",
    "Thu, 08 Jan 2015 05:21:42 +0000",
    "Thu Jan  8 05:21:42 UTC 2015",
    "Thu Jan 8 05:21:42 2015",
    "Thursday, January 8, 2015",
    "January 2015",
    "Feb 2016",
    "Jan 8",
    "SEPT 8 2015",
    "Sep 8 99",
    # 12-hour clock
    "5 PM",
    "5pm",
    "12 AM",
    "12:00 PM",
    "12:30 AM",
    "0:30 PM",
    "05:21 a.m.",
    "5:21:42 p.m. UTC",
    "Jan 8 2015 5 PM",
    # time only
    "05:21",
    "05:21:42",
    "17:21:42.5Z",
    "05:21 +02:00",
    # rejected by dateutil
    "",
    "   ",
    "yesterday",
    "now",
    "2015-13-45",
    "2015-02-30",
    "2015-02-29",
    "Feb 30 2015",
    "Jan 32 2015",
    "2015-01-08 24:00",
    "2015-01-08T25:00:00Z",
    "2015-01-08 05:60",
    "05:21:60",
    "13:00 PM",
    "2015-01-08 13 PM",
    "5 PM PM",
    "2015-01-08 UTC",
    "2015-01-08Z",
    "Jan 8 2015 utc",
    "2015-01-08 5",
    "2015-008",
    "Jan Feb 2015",
    "1/2/3/4",
    "2015-01-08T05:21:42+05:30:00",
    "2015-01-08T05:21:42 \u2603",
]

UNSUPPORTED = [
    "Monday",
    "2015-01-08 05:21 MON",
    "0521",
    "13PM",
    "Jan 8 13 PM",
    "2015-01-08 05:21 GMT+3",
    "2015-01-08T05:21:42Z+02:00",
    "2015-01-08 05:21 UTC +02:00",
    "2015-01-08 05:21:42 +0000 (UTC)",
    "2015-01-08 05:21 PT",
    "2015-01-08 05:21 HOURS",
    "5h30m",
    "January 08,2015",
    "2015.01",
    "2015-01-08.",
    "-2015-01-08",
    "8th of January 2015",
    "2015-01-08T 05:21",
    "T05:21",
    "January 8 at 5",
    "01/07T15",
    "05:21 2015-01-08",
    "2015-01-08 05:21.5",
    "2015-01-08 005:21",
    "Jan.8.2015",
    "Jan05:21",
    "\uff12\uff10\uff11\uff15-01-08",
    "2015-01-08\x00",
]


def run(text):
    """dateutil's verdict on `text` as a JSON-ready dict."""
    try:
        with warnings.catch_warnings():
            # "tzname EST identified but not understood": the result stays naive.
            warnings.simplefilter("ignore")
            dt = parser.parse(text, default=DEFAULT)
    except (ValueError, OverflowError):
        return {"input": text, "ok": False}
    offset = None
    if dt.tzinfo is not None:
        delta = dt.tzinfo.utcoffset(dt)
        if delta is not None:
            offset = int(delta.total_seconds())
    return {
        "input": text,
        "ok": True,
        "naive": dt.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "offset_seconds": offset,
    }


def main():
    if abs(datetime.now().year - DEFAULT.year) > 20:
        sys.exit("the clock is too far from %d for stable two-digit years" % DEFAULT.year)
    duplicates = {c for c in CASES if CASES.count(c) > 1} | (set(CASES) & set(UNSUPPORTED))
    if duplicates:
        sys.exit("listed twice: %r" % sorted(duplicates))
    for text in UNSUPPORTED:
        if not run(text)["ok"]:
            sys.exit("%r is listed as unsupported but dateutil rejects it" % text)
    cases = [run(text) for text in CASES]
    lines = ",\n".join("    " + json.dumps(c, sort_keys=True) for c in cases)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        "{\n"
        '  "generator": "tools/dateutil_cases.py",\n'
        '  "dateutil_version": %s,\n'
        '  "default": "%s",\n'
        '  "cases": [\n%s\n  ]\n'
        "}\n" % (json.dumps(dateutil.__version__), DEFAULT.date().isoformat(), lines)
    )
    accepted = sum(c["ok"] for c in cases)
    print("wrote %s: %d cases (%d accepted, %d rejected)" % (OUT, len(cases), accepted, len(cases) - accepted))


if __name__ == "__main__":
    main()
