#!/usr/bin/env python3
"""Write or check the golden outputs of the scenario trees with the real AWS CLI.

    goldens.py (--write | --check) [--root testdata/scenarios] [-j 2]
               [--now ISO8601] [SCENARIO...]

For every scenario directory (every directory of ROOT holding a scenario.json,
or only the named ones) and every case of its scenario.json, run the reference
(run_reference.py, one fresh interpreter per case) and capture stdout, stderr
and the exit code.

--write  writes expected/CASE.stdout, expected/CASE.stderr, expected/CASE.exit
         (reference/ instead for cases with "differs"; expected/ of those cases
         is never touched).  Files whose content is unchanged are not rewritten.
--check  compares byte for byte, prints a unified diff per mismatching file,
         ends with "N passed, M failed" and exits 1 if anything failed.

Per testdata/FORMAT.md: a case's "reference" ({"args": [...]} and/or
{"metadata": {"BUCKET/KEY": {...}}}) says how to run the AWS CLI so that it
prints what our tool must print; for "differs" cases reference/ holds the AWS
CLI's own output for the case's own args and the mirror as it is, so
"reference" is not applied to them.
"""

import argparse
import concurrent.futures
import difflib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUN_REFERENCE = os.path.join(HERE, 'run_reference.py')
HARNESS_EXIT = 99
# The clock the reference sees.  Every case should pass --end-time; this only
# keeps a case without one (or with an empty one) reproducible.
DEFAULT_NOW = '2030-01-01T00:00:00Z'
CASE_TIMEOUT = 120


class Case:
    def __init__(self, scenario_dir, scenario_name, index, spec):
        self.scenario_dir = scenario_dir
        self.scenario = scenario_name
        self.index = index
        self.spec = spec
        self.name = spec.get('name')
        self.differs = spec.get('differs')
        self.warnings = []
        self.result = None  # (stdout, stderr, exit) or None
        self.error = None  # harness failure text

    @property
    def label(self):
        return f'{self.scenario}/{self.name}'

    @property
    def out_dir(self):
        return os.path.join(self.scenario_dir,
                            'reference' if self.differs else 'expected')

    def command(self, now):
        reference = self.spec.get('reference') or {}
        args = self.spec.get('args')
        metadata = None
        if self.differs:
            if reference:
                self.warnings.append(
                    'case has both "differs" and "reference": reference/ is '
                    'the AWS CLI run on the case\'s own args and data, so '
                    '"reference" is ignored')
        else:
            if reference.get('args') is not None:
                args = reference['args']
            metadata = reference.get('metadata')
        if not any(a == '--end-time' or a.startswith('--end-time=')
                   for a in args):
            self.warnings.append(
                f'no --end-time in args: the reference uses the pinned clock '
                f'{now}')
        cmd = [sys.executable, RUN_REFERENCE,
               '--mirror', os.path.join(self.scenario_dir, 'mirror'),
               '--public-keys', os.path.join(self.scenario_dir,
                                             'public-keys.json'),
               '--scenario-json', os.path.join(self.scenario_dir,
                                               'scenario.json'),
               '--now', now]
        if metadata:
            cmd += ['--metadata-json', json.dumps(metadata, sort_keys=True)]
        return cmd + ['--'] + list(args)


def load_cases(root, names):
    if names:
        dirs = []
        for name in names:
            path = name if os.path.isdir(name) and os.sep in name else \
                os.path.join(root, name)
            if not os.path.isfile(os.path.join(path, 'scenario.json')):
                raise SystemExit(f'goldens: no scenario.json in {path}')
            dirs.append(os.path.abspath(path))
    else:
        if not os.path.isdir(root):
            raise SystemExit(f'goldens: no scenario root {root}')
        dirs = sorted(
            os.path.abspath(os.path.join(root, d)) for d in os.listdir(root)
            if os.path.isfile(os.path.join(root, d, 'scenario.json')))
    cases = []
    for d in dirs:
        with open(os.path.join(d, 'scenario.json'), 'rb') as f:
            try:
                scenario = json.loads(f.read().decode('utf-8'))
            except ValueError as e:
                raise SystemExit(f'goldens: {d}/scenario.json: {e}')
        seen = set()
        for i, spec in enumerate(scenario.get('cases') or []):
            name = spec.get('name')
            if (not isinstance(name, str) or not name or '/' in name
                    or name.startswith('.') or name in seen):
                raise SystemExit(
                    f'goldens: {d}/scenario.json: case {i}: bad or duplicate '
                    f'name {name!r}')
            if not isinstance(spec.get('args'), list) or not all(
                    isinstance(a, str) for a in spec['args']):
                raise SystemExit(
                    f'goldens: {d}/scenario.json: case {name}: args must be '
                    'a list of strings')
            seen.add(name)
            cases.append(Case(d, os.path.basename(d), i, spec))
    return cases


def run_case(case, now):
    cmd = case.command(now)
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=CASE_TIMEOUT,
                              cwd=case.scenario_dir)
    except subprocess.TimeoutExpired:
        case.error = f'timed out after {CASE_TIMEOUT}s'
        return case
    out, err, rc = proc.stdout, proc.stderr, proc.returncode
    if rc == HARNESS_EXIT or b'reference harness error' in err:
        case.error = 'harness failure:\n' + err.decode('utf-8', 'replace')
    elif b'Traceback (most recent call last)' in err:
        case.error = ('Python traceback in the reference\'s stderr (a fake '
                      'is probably wrong):\n' + err.decode('utf-8', 'replace'))
    elif rc < 0:
        case.error = f'reference killed by signal {-rc}'
    case.result = (out, err, b'%d\n' % rc)
    return case


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None


def _lines(data):
    text = data.decode('utf-8', 'backslashreplace')
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n\\ No newline at end of file\n'
    return lines


def diff_text(path, want, got):
    if want is None:
        return f'--- {path}: missing (reference would write {len(got)} ' \
               f'bytes)\n'
    body = ''.join(difflib.unified_diff(
        _lines(want), _lines(got), fromfile=f'{path} (golden)',
        tofile=f'{path} (reference now)'))
    if not body:  # differences invisible to the line diff
        body = f'--- {path}: golden {want!r}\n+++ reference {got!r}\n'
    return body


SUFFIXES = ('stdout', 'stderr', 'exit')


def write_case(case):
    """Returns the list of files written."""
    os.makedirs(case.out_dir, exist_ok=True)
    written = []
    for suffix, data in zip(SUFFIXES, case.result):
        path = os.path.join(case.out_dir, f'{case.name}.{suffix}')
        if _read(path) != data:
            tmp = path + '.tmp'
            with open(tmp, 'wb') as f:
                f.write(data)
            os.replace(tmp, path)
            written.append(path)
    return written


def check_case(case):
    """Returns a list of diff texts (empty when the case passes)."""
    diffs = []
    for suffix, data in zip(SUFFIXES, case.result):
        path = os.path.join(case.out_dir, f'{case.name}.{suffix}')
        want = _read(path)
        if want != data:
            diffs.append(diff_text(os.path.relpath(path), want, data))
    return diffs


def pinned_awscli_version():
    with open(os.path.join(HERE, 'requirements.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line.lower().startswith('awscli=='):
                return line.split('==', 1)[1]
    return None


def check_awscli_version():
    try:
        import awscli
    except ImportError:
        raise SystemExit('goldens: awscli is not installed; run pip install '
                         '-r tools/reference/requirements.txt')
    pinned = pinned_awscli_version()
    if pinned and awscli.__version__ != pinned:
        raise SystemExit(f'goldens: awscli {awscli.__version__} is installed '
                         f'but requirements.txt pins {pinned}')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Write or check golden outputs with the real AWS CLI.')
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument('--write', action='store_true',
                      help='(re)write expected/ (reference/ for differs)')
    mode.add_argument('--check', action='store_true',
                      help='compare with the goldens, byte for byte')
    parser.add_argument('--root',
                        default=os.path.join(REPO, 'testdata', 'scenarios'),
                        help='scenario root (default: testdata/scenarios)')
    parser.add_argument('-j', '--jobs', type=int, default=2,
                        help='cases run in parallel (default 2)')
    parser.add_argument('--now', default=DEFAULT_NOW,
                        help=f'clock pinned for the reference (default '
                             f'{DEFAULT_NOW})')
    parser.add_argument('scenarios', nargs='*', metavar='SCENARIO',
                        help='scenario names under --root (default: all)')
    opts = parser.parse_args(argv)

    check_awscli_version()
    cases = load_cases(opts.root, opts.scenarios)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.jobs)) as pool:
        list(pool.map(lambda c: run_case(c, opts.now), cases))
    elapsed = time.monotonic() - started

    # Report in scenario/case order, whatever order the runs finished in.
    passed = failed = 0
    files_written = 0
    for case in cases:
        for w in case.warnings:
            print(f'warning: {case.label}: {w}')
        if case.error:
            failed += 1
            print(f'FAIL {case.label}: {case.error.rstrip()}')
            continue
        if opts.write:
            written = write_case(case)
            files_written += len(written)
            passed += 1
            state = 'written' if written else 'unchanged'
            print(f'{state} {case.label} -> '
                  f'{os.path.relpath(case.out_dir, opts.root)}/'
                  f' (exit {case.result[2].decode().strip()})')
        else:
            diffs = check_case(case)
            if diffs:
                failed += 1
                print(f'FAIL {case.label}')
                for d in diffs:
                    sys.stdout.write(d if d.endswith('\n') else d + '\n')
            else:
                passed += 1
    sys.stdout.flush()
    print(f'# {len(cases)} cases in {elapsed:.1f}s', file=sys.stderr)
    sys.stderr.flush()
    if opts.write:
        print(f'{passed} ok, {failed} failed ({files_written} files written)')
    else:
        print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
