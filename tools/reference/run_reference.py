#!/usr/bin/env python3
"""Run the real `aws cloudtrail validate-logs` (awscli 1.x, installed from
PyPI) once, over a local mirror, through fake S3/CloudTrail/Organizations
clients.

    run_reference.py --mirror ROOT --public-keys FILE [--scenario-json FILE]
                     [--metadata-json JSON] [--now ISO8601] [--trace FILE]
                     -- VALIDATE-LOGS-ARGS...

The reference's stdout and stderr bytes are written unchanged to this
process's stdout and stderr, and this process exits with the reference's exit
code.  One invocation per process: the validator and the CLI keep module
state, so run each case in a fresh interpreter (goldens.py does).

Exit code 99 (with a "reference harness error" message on stderr) means the
harness itself failed; such output is never a reference result.
"""

import argparse
import os
import sys
import time
import traceback

HARNESS_EXIT = 99

# Environment for the CLI: fake credentials and region, no shared config or
# credentials files, no instance metadata lookups, UTC local time.  Set before
# awscli/botocore are imported (awscli reads AWS_DATA_PATH at import time).
_CLEAN_ENV = {
    'AWS_ACCESS_KEY_ID': 'AKIAFAKEFAKEFAKEFAKE',
    'AWS_SECRET_ACCESS_KEY': 'fake/secret/access/key/for/offline/reference',
    'AWS_DEFAULT_REGION': 'us-east-1',
    'AWS_CONFIG_FILE': os.devnull,
    'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
    'AWS_EC2_METADATA_DISABLED': 'true',
    'AWS_METADATA_SERVICE_NUM_ATTEMPTS': '0',
    'TZ': 'UTC',
}


def _prepare_environment():
    for name in list(os.environ):
        if name.startswith('AWS_') or name.startswith('BOTO_'):
            del os.environ[name]
    os.environ.update(_CLEAN_ENV)
    if hasattr(time, 'tzset'):
        time.tzset()
    # The CLI writes text; make it UTF-8 whatever the caller's locale is.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, 'reconfigure'):
            stream.reconfigure(encoding='utf-8')


def _parse_args(argv):
    if '--' in argv:
        split = argv.index('--')
        own, cli_args = argv[:split], argv[split + 1:]
    else:
        own, cli_args = argv, []
    parser = argparse.ArgumentParser(
        prog='run_reference.py',
        description='Run aws cloudtrail validate-logs over a local mirror.',
        usage='%(prog)s --mirror ROOT --public-keys FILE [--scenario-json '
              'FILE] [--metadata-json JSON] [--now ISO8601] [--trace FILE] '
              '[--s3-endpoint URL] -- ARGS...')
    parser.add_argument('--mirror', required=True,
                        help='mirror root: ROOT/BUCKET/KEY files')
    parser.add_argument('--public-keys', required=True,
                        help='list-public-keys JSON (CLI v1 or v2 shape)')
    parser.add_argument('--scenario-json',
                        help='scenario.json: trail (DescribeTrails) and '
                             'organization_id (DescribeOrganization)')
    parser.add_argument('--metadata-json',
                        help='JSON object {"BUCKET/KEY": {metadata}}: '
                             'replaces the S3 user metadata of those objects')
    parser.add_argument('--now',
                        help='pin the clock the CLI uses for a missing or '
                             'empty --end-time (ISO 8601 with offset); '
                             'default: the real clock')
    parser.add_argument('--trace',
                        help='write the fake API calls made, as JSON, here')
    parser.add_argument('--s3-endpoint',
                        help='S3 is this real server (a bench\'s, on '
                             'loopback) instead of the mirror; the other '
                             'services stay fakes')
    opts = parser.parse_args(own)
    return opts, cli_args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts, cli_args = _parse_args(argv)
    _prepare_environment()

    import datetime
    import json

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fake_aws import FakeAWS, HarnessError

    try:
        overrides = None
        if opts.metadata_json:
            overrides = json.loads(opts.metadata_json)
            if not isinstance(overrides, dict):
                raise HarnessError('--metadata-json must be a JSON object')
        now = None
        if opts.now:
            now = datetime.datetime.fromisoformat(opts.now)
            if now.tzinfo is None:
                raise HarnessError('--now needs a UTC offset (or Z)')
            now = now.astimezone(datetime.timezone.utc)
        world = FakeAWS.from_scenario(
            opts.mirror, opts.public_keys, opts.scenario_json, overrides, now)
        world.s3_endpoint = opts.s3_endpoint

        from awscli.clidriver import create_clidriver

        driver = create_clidriver()
        world.install(driver)
        # argparse names the program after sys.argv[0]; the real entry point
        # is the `aws` script.
        sys.argv = ['aws', 'cloudtrail', 'validate-logs'] + cli_args
        try:
            rc = driver.main(sys.argv[1:])
        finally:
            if opts.trace:
                with open(opts.trace, 'w', encoding='utf-8') as f:
                    json.dump(world.calls, f, indent=1, default=repr)
                    f.write('\n')
    except (HarnessError, ValueError, OSError) as e:
        # Errors of the CLI itself never get here (the driver turns them into
        # messages and exit codes); these are harness/setup failures.
        sys.stdout.flush()
        sys.stderr.write('\nreference harness error: %s: %s\n'
                         % (type(e).__name__, e))
        traceback.print_exc(file=sys.stderr)
        return HARNESS_EXIT
    sys.stdout.flush()
    sys.stderr.flush()
    return rc


if __name__ == '__main__':
    sys.exit(main())
