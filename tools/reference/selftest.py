#!/usr/bin/env python3
"""Self-test of the reference harness on small synthetic scenarios.

Builds scenario trees in a temporary directory (signed with the test-only key
testdata/keys/test-signing-key-1.pem and -2.pem), runs goldens.py --write and
--check over them, and asserts facts about what the real AWS CLI printed.

    python3 tools/reference/selftest.py [--keep DIR]

--keep DIR builds the trees in DIR (created, must not exist) and leaves them
there for inspection.  Nothing under testdata/ is touched.
"""

import argparse
import base64
import datetime
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import rsa

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KEYS = os.path.join(REPO, 'testdata', 'keys')
UTC = datetime.timezone.utc
ACCOUNT = '111122223333'


def load_key(n):
    with open(os.path.join(KEYS, f'test-signing-key-{n}.pem'), 'rb') as f:
        private = rsa.PrivateKey.load_pkcs1(f.read())
    public = rsa.PublicKey(private.n, private.e)
    der = public.save_pkcs1('DER')
    return {
        'private': private,
        'der': der,
        'value': base64.b64encode(der).decode(),
        'fingerprint': hashlib.md5(der).hexdigest(),
    }


def stamp(dt):
    return dt.strftime('%Y%m%dT%H%M%SZ')


def iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def java_json(obj):
    """Compact JSON with '/' escaped, as CloudTrail writes digests."""
    return json.dumps(obj, separators=(',', ':')).replace('/', '\\/').encode()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


class Trail:
    def __init__(self, mirror, bucket, name, home='us-east-1', source=None,
                 prefix=None, org=None, account=ACCOUNT):
        self.mirror = mirror
        self.bucket = bucket
        self.name = name
        self.home = home
        self.source = source or home
        self.prefix = prefix
        self.org = org
        self.account = account
        self.prev = None  # (bucket, key, hash, signature) of the last digest
        self.arn = f'arn:aws:cloudtrail:{home}:{account}:trail/{name}'
        self.log_counter = 0

    def _base(self, kind):
        parts = [self.prefix] if self.prefix else []
        parts.append('AWSLogs')
        if self.org:
            parts.append(self.org)
        parts += [self.account, kind, self.source]
        return '/'.join(parts)

    def path(self, key, bucket=None):
        return os.path.join(self.mirror, bucket or self.bucket, key)

    def add_log(self, when, records=2):
        self.log_counter += 1
        unique = f'{self.log_counter:016x}'
        key = (f'{self._base("CloudTrail")}/{when:%Y/%m/%d}/{self.account}_'
               f'CloudTrail_{self.source}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz')
        body = json.dumps({'Records': [
            {'eventVersion': '1.08', 'eventTime': iso(when),
             'eventName': f'Event{i}'} for i in range(records)]}).encode()
        write(self.path(key), gzip.compress(body, mtime=0))
        return {
            's3Bucket': self.bucket, 's3Object': key,
            'hashValue': hashlib.sha256(body).hexdigest(),
            'hashAlgorithm': 'SHA-256',
            'newestEventTime': iso(when), 'oldestEventTime': iso(when),
        }

    def add_digest(self, start, key, logs=(), starting=False, backfill_at=None,
                   metadata=True):
        end = start + datetime.timedelta(hours=1)
        suffix = '_backfill.json.gz' if backfill_at else '.json.gz'
        dkey = (f'{self._base("CloudTrail-Digest")}/{end:%Y/%m/%d}/'
                f'{self.account}_CloudTrail-Digest_{self.source}_{self.name}_'
                f'{self.home}_{stamp(end)}{suffix}')
        prev = None if starting else self.prev
        doc = {
            'awsAccountId': self.account,
            'digestStartTime': iso(start),
            'digestEndTime': iso(end),
            'digestS3Bucket': self.bucket,
            'digestS3Object': dkey,
            'digestPublicKeyFingerprint': key['fingerprint'],
            'digestSignatureAlgorithm': 'SHA256withRSA',
            'newestEventTime': logs[-1]['newestEventTime'] if logs else None,
            'oldestEventTime': logs[0]['oldestEventTime'] if logs else None,
            'previousDigestS3Bucket': prev[0] if prev else None,
            'previousDigestS3Object': prev[1] if prev else None,
            'previousDigestHashValue': prev[2] if prev else None,
            'previousDigestHashAlgorithm': 'SHA-256' if prev else None,
            'previousDigestSignature': prev[3] if prev else None,
            'logFiles': list(logs),
        }
        raw = java_json(doc)
        digest_hash = hashlib.sha256(raw).hexdigest()
        to_sign = '\n'.join([
            doc['digestEndTime'], f'{self.bucket}/{dkey}', digest_hash,
            doc['previousDigestSignature'] or 'null']).encode()
        signature = rsa.sign(to_sign, key['private'], 'SHA-256').hex()
        write(self.path(dkey), gzip.compress(raw, mtime=0))
        meta = {'signature': signature,
                'signature-algorithm': 'SHA256withRSA'}
        if backfill_at:
            meta['backfill-generation-timestamp'] = iso(backfill_at)
        if metadata:
            write(self.path(dkey) + '.metadata.json',
                  json.dumps(meta).encode())
        if not backfill_at:
            self.prev = (self.bucket, dkey, digest_hash, signature)
        return dkey, meta

    def chain(self, first_start, hours, key, logs_per_digest=2,
              starting=True):
        keys = []
        for h in range(hours):
            start = first_start + datetime.timedelta(hours=h)
            logs = [self.add_log(start + datetime.timedelta(minutes=5 + 10 * i))
                    for i in range(logs_per_digest)]
            keys.append(self.add_digest(start, key, logs,
                                        starting=starting and h == 0))
        return keys


def public_keys_v1(entries):
    return {'PublicKeyList': [
        {'ValidityStartTime': float(s.timestamp()),
         'ValidityEndTime': float(e.timestamp()),
         'Value': k['value'], 'Fingerprint': k['fingerprint']}
        for k, s, e in entries]}


def public_keys_v2(entries):
    plus1 = datetime.timezone(datetime.timedelta(hours=1))
    return {'PublicKeyList': [
        {'Value': k['value'],
         'ValidityStartTime': s.astimezone(plus1).isoformat(),
         'ValidityEndTime': e.astimezone(plus1).isoformat(),
         'Fingerprint': k['fingerprint']}
        for k, s, e in entries]}


def scenario(root, name, trail_info, cases, public_keys, org=None,
             description=''):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, 'mirror'), exist_ok=True)
    write(os.path.join(d, 'public-keys.json'),
          json.dumps(public_keys, indent=2).encode())
    write(os.path.join(d, 'scenario.json'), json.dumps({
        'description': description, 'trail': trail_info,
        'organization_id': org, 'cases': cases}, indent=2).encode())
    return d


def trail_info(t, org_trail=False):
    return {'TrailARN': t.arn, 'S3BucketName': t.bucket,
            'S3KeyPrefix': t.prefix, 'IsOrganizationTrail': org_trail}


def case(name, args, reference=None, differs=None):
    return {'name': name, 'args': args, 'reference': reference,
            'differs': differs}


def build(root):
    k1, k2 = load_key(1), load_key(2)
    t0 = datetime.datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
    key_window = [(k1, datetime.datetime(2026, 1, 1, tzinfo=UTC),
                   datetime.datetime(2026, 1, 31, tzinfo=UTC))]

    # 1. a clean chain of three digests, two logs each
    d = os.path.join(root, 'st-clean')
    t = Trail(os.path.join(d, 'mirror'), 'ct-bucket', 'my-trail')
    t.chain(t0, 3, k1)
    base = ['--trail-arn', t.arn, '--start-time', iso(t0),
            '--end-time', iso(t0 + datetime.timedelta(hours=3))]
    scenario(root, 'st-clean', trail_info(t), [
        case('default', base + ['--s3-bucket', 'ct-bucket']),
        case('verbose', base + ['--s3-bucket', 'ct-bucket', '--verbose']),
        case('describe-trails', base + ['--verbose']),
        case('late-start', ['--trail-arn', t.arn,
                            '--start-time', '2026-01-10T01:30:00Z',
                            '--end-time', '2026-01-10T02:30:00Z',
                            '--s3-bucket', 'ct-bucket', '--verbose']),
    ], public_keys_v1(key_window))

    # 2. tampering: changed log, missing log, trailing data, not gzip,
    #    deleted digest, digest without metadata (restored by reference)
    d = os.path.join(root, 'st-tampered')
    t = Trail(os.path.join(d, 'mirror'), 'ct-bucket', 'my.trail_x-1')
    digests = t.chain(t0, 5, k1, logs_per_digest=2)
    mirror_bucket = os.path.join(d, 'mirror', 'ct-bucket')
    logs = []
    for dkey, _ in digests:
        with open(os.path.join(mirror_bucket, dkey), 'rb') as f:
            logs.append([lf['s3Object'] for lf in
                         json.loads(gzip.decompress(f.read()))['logFiles']])
    # digest 5 (newest): first log's content changed
    write(os.path.join(mirror_bucket, logs[4][0]),
          gzip.compress(b'{"Records":[]}', mtime=0))
    # digest 5: second log deleted
    os.remove(os.path.join(mirror_bucket, logs[4][1]))
    # digest 4: trailing data after the gzip member; not-gzip content
    with open(os.path.join(mirror_bucket, logs[3][0]), 'ab') as f:
        f.write(b'trailing')
    write(os.path.join(mirror_bucket, logs[3][1]), b'not gzip at all')
    # digest 3 deleted
    os.remove(os.path.join(mirror_bucket, digests[2][0]))
    os.remove(os.path.join(mirror_bucket, digests[2][0] + '.metadata.json'))
    # digest 1: metadata missing from the mirror
    first_key, first_meta = digests[0]
    os.remove(os.path.join(mirror_bucket, first_key + '.metadata.json'))
    args = ['--trail-arn', t.arn, '--start-time', iso(t0),
            '--end-time', iso(t0 + datetime.timedelta(hours=5)),
            '--s3-bucket', 'ct-bucket', '--verbose']
    scenario(root, 'st-tampered', trail_info(t), [
        case('verbose', args,
             reference={'metadata': {f'ct-bucket/{first_key}': first_meta}}),
        case('raw', args, differs='the mirror lacks digest 1 metadata; '
                                  'reference/ shows the AWS CLI on it'),
    ], public_keys_v1(key_window))

    # 3. prefix, multi-region source, two chains with a gap, v2 key file
    d = os.path.join(root, 'st-gap-v2')
    t = Trail(os.path.join(d, 'mirror'), 'ct-bucket', 'multi',
              home='us-west-2', source='eu-west-1', prefix='pre/fix')
    t.chain(t0, 2, k1, logs_per_digest=1)
    t.chain(t0 + datetime.timedelta(hours=5), 2, k1, logs_per_digest=0)
    scenario(root, 'st-gap-v2', trail_info(t), [
        case('verbose', ['--trail-arn', t.arn, '--start-time', iso(t0),
                         '--end-time', iso(t0 + datetime.timedelta(hours=7)),
                         '--s3-bucket', 'ct-bucket', '--s3-prefix', 'pre/fix',
                         '--region', 'eu-west-1', '--verbose']),
        case('home-region', ['--trail-arn', t.arn, '--start-time', iso(t0),
                             '--end-time', '2026-01-10T07:00:00Z',
                             '--s3-bucket', 'ct-bucket',
                             '--s3-prefix', 'pre/fix']),
        case('offset-date', ['--trail-arn', t.arn,
                             '--start-time', '2026-01-10T01:00:00+05:00',
                             '--end-time', '2026-01-10T07:00:00Z',
                             '--s3-bucket', 'ct-bucket',
                             '--s3-prefix', 'pre/fix', '--region',
                             'eu-west-1'],
             reference={'args': ['--trail-arn', t.arn,
                                 '--start-time', '2026-01-10T01:00:00Z',
                                 '--end-time', '2026-01-10T07:00:00Z',
                                 '--s3-bucket', 'ct-bucket',
                                 '--s3-prefix', 'pre/fix', '--region',
                                 'eu-west-1']}),
    ], public_keys_v2(key_window))

    # 4. organization trail
    d = os.path.join(root, 'st-org')
    t = Trail(os.path.join(d, 'mirror'), 'org-bucket', 'org-trail',
              org='o-abcdef1234', account='444455556666')
    t.arn = f'arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail'
    t.chain(t0, 2, k1, logs_per_digest=1)
    base = ['--trail-arn', t.arn, '--start-time', iso(t0),
            '--end-time', iso(t0 + datetime.timedelta(hours=2))]
    scenario(root, 'st-org', trail_info(t, org_trail=True), [
        case('via-describe', base + ['--account-id', '444455556666',
                                     '--verbose']),
        case('no-account', base),
        case('with-bucket', base + ['--s3-bucket', 'org-bucket',
                                    '--account-id', '444455556666']),
    ], public_keys_v1(key_window), org='o-abcdef1234')

    # 5. backfill: key 2 only valid around the generation time (lazy lookup)
    d = os.path.join(root, 'st-backfill')
    t = Trail(os.path.join(d, 'mirror'), 'ct-bucket', 'bf')
    t.chain(t0, 1, k1, logs_per_digest=1)
    gen = datetime.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    logs = [t.add_log(t0 + datetime.timedelta(hours=1, minutes=7))]
    t.add_digest(t0 + datetime.timedelta(hours=1), k2, logs, starting=True,
                 backfill_at=gen)
    bkey, _ = t.add_digest(t0 + datetime.timedelta(hours=2), k2, [],
                           starting=True, backfill_at=gen)
    # the second backfill digest loses its generation timestamp
    meta_path = os.path.join(d, 'mirror', 'ct-bucket',
                             bkey + '.metadata.json')
    meta = json.loads(open(meta_path).read())
    del meta['backfill-generation-timestamp']
    write(meta_path, json.dumps(meta).encode())
    scenario(root, 'st-backfill', trail_info(t), [
        case('verbose', ['--trail-arn', t.arn, '--start-time', iso(t0),
                         '--end-time', iso(t0 + datetime.timedelta(hours=3)),
                         '--s3-bucket', 'ct-bucket', '--verbose']),
    ], public_keys_v1(key_window + [
        (k2, gen - datetime.timedelta(days=1),
         gen + datetime.timedelta(days=29))]))

    # 6. fatal errors and empty results
    d = os.path.join(root, 'st-errors')
    t = Trail(os.path.join(d, 'mirror'), 'ct-bucket', 'err')
    t.chain(t0, 1, k1, logs_per_digest=0)
    arn = t.arn
    rng = ['--start-time', iso(t0), '--end-time', '2026-01-10T01:00:00Z']
    scenario(root, 'st-errors', trail_info(t), [
        case('no-such-bucket', ['--trail-arn', arn] + rng +
             ['--s3-bucket', 'missing-bucket']),
        case('bad-arn', ['--trail-arn', 'arn:aws:cloudtrail:x:1:trail/y'] +
             rng),
        case('bad-date', ['--trail-arn', arn, '--start-time', 'yesterday-ish',
                          '--end-time', '2026-01-10T01:00:00Z']),
        case('reversed', ['--trail-arn', arn,
                          '--start-time', '2026-01-10T02:00:00Z',
                          '--end-time', '2026-01-10T01:00:00Z']),
        case('no-keys', ['--trail-arn', arn, '--start-time',
                         '2025-06-01T00:00:00Z', '--end-time',
                         '2025-06-02T00:00:00Z', '--s3-bucket', 'ct-bucket']),
        case('no-digests', ['--trail-arn', arn, '--start-time',
                            '2026-01-20T00:00:00Z', '--end-time',
                            '2026-01-20T05:00:00Z', '--s3-bucket',
                            'ct-bucket']),
        case('missing-arg', ['--trail-arn', arn]),
        case('unknown-trail', ['--trail-arn', arn.replace('err', 'other')] +
             rng),
    ], public_keys_v1(key_window))


def read_case(root, scen, name, sub='expected'):
    base = os.path.join(root, scen, sub, name)
    out = open(base + '.stdout', 'rb').read().decode()
    err = open(base + '.stderr', 'rb').read().decode()
    rc = int(open(base + '.exit').read())
    return out, err, rc


FAILURES = []


def expect(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILURES.append(what)


def assertions(root):
    out, err, rc = read_case(root, 'st-clean', 'verbose')
    expect(rc == 0 and err == '', 'clean verbose: exit 0, empty stderr')
    expect(out.count('\tvalid\n') == 3 + 6, 'clean verbose: 3 digests + 6 '
                                            'logs valid')
    expect(out.startswith('Validating log files for trail arn:aws:cloudtrail:'
                          'us-east-1:111122223333:trail/my-trail between '
                          '2026-01-10T00:00:00Z and 2026-01-10T03:00:00Z\n\n'),
           'clean verbose: header line')
    expect(out.endswith('Results found for 2026-01-10T00:00:00Z to '
                        '2026-01-10T03:00:00Z:\n\n3/3 digest files valid\n'
                        '6/6 log files valid\n'),
           'clean verbose: summary')
    out2, _, _ = read_case(root, 'st-clean', 'describe-trails')
    expect(out2 == out, 'clean: DescribeTrails path == --s3-bucket path')
    out, err, rc = read_case(root, 'st-clean', 'default')
    expect(rc == 0 and '\tvalid' not in out, 'clean default: no valid lines')

    out, err, rc = read_case(root, 'st-tampered', 'verbose')
    expect(rc == 1, 'tampered: exit 1')
    for needle in ["INVALID: hash value doesn't match", 'INVALID: not found',
                   'INVALID: unexpected data after end of compressed stream',
                   'INVALID: invalid format']:
        expect(needle in err, f'tampered: stderr has {needle!r}')
    expect('signature verification failed' not in err,
           'tampered: metadata override restores digest 1 signature')
    _, err_raw, rc_raw = read_case(root, 'st-tampered', 'raw', 'reference')
    expect('signature verification failed' in err_raw and rc_raw == 1,
           'tampered raw (differs -> reference/): signature failure')
    expect(not os.path.exists(os.path.join(root, 'st-tampered', 'expected',
                                           'raw.stdout')),
           'tampered raw: expected/ untouched for differs case')

    out, err, rc = read_case(root, 'st-gap-v2', 'verbose')
    expect('No log files were delivered by CloudTrail between' in err,
           'gap: gap line on stderr')
    expect(rc == 0, 'gap: exit 0')
    out, err, rc = read_case(root, 'st-gap-v2', 'home-region')
    expect('No digests found' in out, 'multi-region without --region: '
                                      'home region listed, nothing found')

    out, err, rc = read_case(root, 'st-org', 'via-describe')
    expect(rc == 0 and out.count('\tvalid\n') == 4, 'org: DescribeTrails + '
                                                    'DescribeOrganization')
    out, err, rc = read_case(root, 'st-org', 'no-account')
    expect(rc == 255 and "--account-id" in err, 'org without --account-id')
    out, err, rc = read_case(root, 'st-org', 'with-bucket')
    expect(out.endswith('No digests found\n'), 'org with --s3-bucket: '
                                               'No digests found')

    out, err, rc = read_case(root, 'st-backfill', 'verbose')
    expect('(backfill) Digest file\t' in out, 'backfill: a valid backfill '
                                              'digest (lazy key lookup)')
    expect('(backfill) Digest file' in err and 'invalid format' in err,
           'backfill without generation timestamp: invalid format')

    out, err, rc = read_case(root, 'st-errors', 'no-such-bucket')
    expect(rc in (254, 255) and 'NoSuchBucket' in err,
           'missing bucket: ClientError printed')
    _, err, rc = read_case(root, 'st-errors', 'bad-arn')
    expect(rc == 255 and err == '\nInvalid trail ARN provided: '
           'arn:aws:cloudtrail:x:1:trail/y\n', 'bad ARN message')
    _, err, rc = read_case(root, 'st-errors', 'bad-date')
    expect(rc == 255 and 'Unable to parse date value: yesterday-ish' in err,
           'bad date message')
    _, err, rc = read_case(root, 'st-errors', 'no-keys')
    expect(rc == 255 and 'No public keys found between' in err,
           'no keys message')
    out, _, rc = read_case(root, 'st-errors', 'no-digests')
    expect(rc == 0 and out.endswith('No digests found\n'), 'no digests')
    for scen in os.listdir(root):
        for sub in ('expected', 'reference'):
            p = os.path.join(root, scen, sub)
            if not os.path.isdir(p):
                continue
            for f in os.listdir(p):
                if f.endswith('.stderr'):
                    data = open(os.path.join(p, f), 'rb').read()
                    expect(b'Traceback' not in data,
                           f'no traceback in {scen}/{sub}/{f}')


def unit_checks(root):
    """Direct checks of the S3 fake: listing order, marker, prefix, paging,
    sidecars, errors."""
    sys.path.insert(0, HERE)
    import fake_aws  # imports awscli first, so botocore is the CLI's copy
    import botocore.session
    from botocore.exceptions import ClientError

    mirror = os.path.join(root, 'unit-mirror')
    keys = [f'p/{i:05d}' for i in range(2500)]
    keys += ['p/\u00e9t\u00e9', 'p/z', 'p/Z', 'p/\U0001f600', 'p/\uff21',
             'q/other', 'p/00001.metadata.json.x']
    for k in keys:
        write(os.path.join(mirror, 'b', k), k.encode())
    write(os.path.join(mirror, 'b', 'p/00007.metadata.json'),
          json.dumps({'Signature': 'ab', 'signature-algorithm': 'X'}).encode())
    os.makedirs(os.path.join(mirror, 'b', 'empty-dir'))
    world = fake_aws.FakeAWS(mirror, None, metadata_overrides={
        'b/p/00008': {'signature': 'cd'}})
    session = botocore.session.Session()
    s3 = world.create_client(session, 's3', region_name='us-east-1')

    def listing(marker, prefix):
        pages = s3.get_paginator('list_objects').paginate(
            Bucket='b', Marker=marker, Prefix=prefix)
        return [k for k in pages.search('Contents[*].Key') if k]

    by_bytes = sorted(keys, key=lambda k: k.encode())
    for marker, prefix in [('', 'p/'), ('p/00999', 'p/'), ('p/01000', 'p'),
                           ('p/0', ''), ('p/\u00e9', 'p/'), ('zzz', '')]:
        want = [k for k in by_bytes
                if k.startswith(prefix) and k.encode() > marker.encode()]
        expect(listing(marker, prefix) == want,
               f'S3 listing marker={marker!r} prefix={prefix!r} '
               f'({len(want)} keys, UTF-8 byte order, paged)')
    calls = [c for c in world.calls if c['operation'] == 'ListObjects']
    first = [k for k in by_bytes if k.startswith('p/')]
    expect(len(calls) >= 3 and calls[1]['params']['Marker'] == first[999]
           and calls[2]['params']['Marker'] == first[1999],
           'S3 listing: pages of 1000, next Marker = last key of the page')
    page = s3.list_objects(Bucket='b', Prefix='nothing')
    expect('Contents' not in page and page['IsTruncated'] is False,
           'S3 empty listing has no Contents')
    expect(list(s3.get_paginator('list_objects').paginate(
        Bucket='b', Prefix='nothing').search('Contents[*].Key')) == [None],
        "S3 empty listing: search('Contents[*].Key') yields one None")
    r = s3.get_object(Bucket='b', Key='p/00007')
    expect(r['Body'].read(3) == b'p/0' and r['Body'].read() == b'0007'
           and r['Metadata'] == {'signature': 'ab',
                                 'signature-algorithm': 'X'},
           'S3 get_object: body read(n), sidecar metadata (names lower-cased)')
    expect(s3.get_object(Bucket='b', Key='p/00008')['Metadata'] ==
           {'signature': 'cd'}, 'S3 metadata override replaces sidecar')
    expect(s3.get_object(Bucket='b', Key='p/00009')['Metadata'] == {},
           'S3 object without sidecar: empty metadata')
    for bad in ('p/00007.metadata.json', 'p//00007', 'p/./00007', 'empty-dir',
                'empty-dir/', 'p/missing'):
        try:
            s3.get_object(Bucket='b', Key=bad)
            got = None
        except ClientError as e:
            got = e
        expect(got is not None and type(got).__name__ == 'NoSuchKey'
               and got.response['Error'] == {
                   'Code': 'NoSuchKey',
                   'Message': 'The specified key does not exist.',
                   'Key': bad}
               and got.response['ResponseMetadata']['HTTPStatusCode'] == 404
               and str(got) == 'An error occurred (NoSuchKey) when calling '
                               'the GetObject operation: The specified key '
                               'does not exist.',
               f'S3 get_object {bad!r}: NoSuchKey as botocore raises it')
    try:
        s3.get_bucket_location(Bucket='nope')
        got = None
    except ClientError as e:
        got = e
    expect(got is not None and str(got) == 'An error occurred (NoSuchBucket) '
           'when calling the GetBucketLocation operation: The specified '
           'bucket does not exist', 'S3 NoSuchBucket message')
    try:
        s3.get_object(Bucket='b', Key='')
        got = None
    except Exception as e:
        got = e
    expect(type(got).__name__ == 'ParamValidationError',
           'S3 get_object with an empty key: botocore ParamValidationError')
    try:
        s3.get_bucket_location(Bucket='bad/bucket')
        got = None
    except Exception as e:
        got = e
    expect(type(got).__name__ == 'ParamValidationError'
           and 'Invalid bucket name' in str(got),
           'S3 invalid bucket name: botocore ParamValidationError')

    # public keys: v1 numbers, numeric strings, v2 ISO with offset; overlap
    k1 = load_key(1)
    pk = os.path.join(root, 'unit-keys.json')
    write(pk, json.dumps({'PublicKeyList': [
        {'Value': k1['value'], 'Fingerprint': 'a',
         'ValidityStartTime': 1000.0, 'ValidityEndTime': 2000.0},
        {'Value': k1['value'], 'Fingerprint': 'b',
         'ValidityStartTime': '2000', 'ValidityEndTime': '3000.0'},
        {'Value': k1['value'], 'Fingerprint': 'c',
         'ValidityStartTime': '1970-01-01T01:50:00+01:00',
         'ValidityEndTime': '1970-01-01T01:15:00Z'},
    ]}).encode())
    world = fake_aws.FakeAWS(mirror, pk)
    ct = world.create_client(session, 'cloudtrail', region_name='us-east-1')

    def fps(a, b):
        return [k['Fingerprint'] for k in ct.list_public_keys(
            StartTime=datetime.datetime.fromtimestamp(a, UTC),
            EndTime=datetime.datetime.fromtimestamp(b, UTC))['PublicKeyList']]
    expect(fps(0, 999) == [], 'public keys: none before the windows')
    expect(fps(0, 1000) == ['a'], 'public keys: end == ValidityStart overlaps')
    expect(fps(2000, 2000) == ['a', 'b'], 'public keys: inclusive bounds')
    expect(fps(3000, 5000) == ['b', 'c'], 'public keys: v2 ISO window')
    expect(fps(4501, 9000) == [], 'public keys: none after')
    entry = ct.list_public_keys(
        StartTime=datetime.datetime.fromtimestamp(1500, UTC),
        EndTime=datetime.datetime.fromtimestamp(1500, UTC))['PublicKeyList'][0]
    expect(entry == {'Value': k1['value'], 'Fingerprint': 'a',
                     'ValidityStartTime': 1000.0,
                     'ValidityEndTime': 2000.0},
           'public keys: wire shape (base64 Value, epoch numbers)')


def run(cmd):
    print('$ ' + ' '.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    return proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--keep', help='build in DIR and keep it')
    opts = parser.parse_args()
    if opts.keep:
        root = opts.keep
        os.makedirs(root)
    else:
        root = tempfile.mkdtemp(prefix='reference-selftest-')
    try:
        unit_checks(root)
        build(root)
        goldens = [sys.executable, os.path.join(HERE, 'goldens.py')]
        proc = run(goldens + ['--write', '--root', root])
        expect(proc.returncode == 0, 'goldens --write exit 0')
        assertions(root)
        proc = run(goldens + ['--check', '--root', root])
        expect(proc.returncode == 0 and proc.stdout.endswith(' 0 failed\n'),
               'goldens --check passes on fresh goldens')
        # Corrupt one golden: --check must fail with a diff.
        victim = os.path.join(root, 'st-clean', 'expected', 'verbose.stdout')
        with open(victim, 'ab') as f:
            f.write(b'extra line\n')
        proc = run(goldens + ['--check', '--root', root, 'st-clean'])
        expect(proc.returncode == 1 and '-extra line' in proc.stdout
               and proc.stdout.endswith('3 passed, 1 failed\n'),
               'goldens --check reports a corrupted golden')
    finally:
        if not opts.keep:
            shutil.rmtree(root)
    print(f'{len(FAILURES)} self-test failure(s)')
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
