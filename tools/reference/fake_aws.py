"""Offline stand-ins for the S3, CloudTrail and Organizations clients that
`aws cloudtrail validate-logs` (awscli 1.x) creates.

Everything is answered from local files:

* S3: a mirror root where object ``s3://BUCKET/KEY`` is the file
  ``ROOT/BUCKET/KEY``; ``KEY.metadata.json`` beside it holds the object's user
  metadata (what ``head-object --query Metadata`` prints) and is not an object.
* CloudTrail: a ``list-public-keys`` JSON document (CLI v1 or v2 shape) and the
  scenario's trail description (for DescribeTrails).
* Organizations: the scenario's organization id (for DescribeOrganization).

The fakes reuse botocore's own machinery wherever the real client would:
parameter validation and serialisation (so malformed bucket names, empty keys
and so on fail with botocore's own errors), modeled exception classes built
from the service model (so a missing key raises ``S3.Client.exceptions.NoSuchKey``
with the same ``response`` a real 404 would be parsed into), the real
``Paginator``/``PageIterator`` driven by the real S3 paginator configuration,
and ``StreamingBody`` for object bodies.

Anything the fakes cannot answer faithfully raises ``HarnessError``, which
derives from ``BaseException`` on purpose: the validator catches ``Exception``
around digest and log processing and would otherwise turn a harness bug into
an ``INVALID: ...`` line that looks like a legitimate result.
"""

# `import awscli` must come before any botocore import: awscli 1.46 vendors its
# own botocore (awscli/botocore) and installs an import alias so that
# `import botocore` resolves to it.  Importing the PyPI botocore first would give
# us a second, different ClientError class that the validator would not catch.
import awscli  # noqa: F401  (import for its side effect, see above)

import calendar
import datetime
import email.utils
import hashlib
import io
import json
import os
import socket
import sys
from bisect import bisect_left, bisect_right

import botocore.exceptions
import botocore.handlers
import botocore.paginate
import botocore.response
import botocore.serialize
from botocore.errorfactory import ClientExceptionsFactory

METADATA_SUFFIX = '.metadata.json'
S3_MAX_KEYS = 1000


class HarnessError(BaseException):
    """The fake cannot answer faithfully (bad input files, unsupported call).

    Deliberately not an ``Exception`` so that the validator's catch-all
    handlers cannot swallow it."""


# ---------------------------------------------------------------------------
# helpers


def _utc_from_epoch(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def _s3_iso(epoch):
    """A timestamp as S3's XML bodies carry it (ms precision, 'Z')."""
    dt = _utc_from_epoch(epoch)
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + f'{dt.microsecond // 1000:03d}Z'


def _http_date(epoch):
    return email.utils.formatdate(epoch, usegmt=True)


def _read_file(path):
    """File bytes; an I/O error is the harness's problem, never the CLI's
    (the CLI would print it as if it were a service error)."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as e:
        raise HarnessError(f'cannot read {path}: {e}')


def _walk_error(err):
    raise HarnessError(f'cannot walk the mirror: {err}')


def parse_key_time(value, where):
    """Epoch seconds (float) from a list-public-keys validity time.

    CLI v1 prints the wire value: a number of epoch seconds (some documents
    quote it as a numeric string).  CLI v2 prints ISO 8601 with a UTC offset.
    """
    if isinstance(value, bool):
        raise HarnessError(f'{where}: boolean is not a timestamp: {value!r}')
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise HarnessError(f'{where}: unparseable timestamp {value!r}')
        if parsed.tzinfo is None:
            raise HarnessError(
                f'{where}: ISO 8601 timestamp without a UTC offset is '
                f'ambiguous: {value!r}'
            )
        return parsed.timestamp()
    raise HarnessError(f'{where}: not a timestamp: {value!r}')


def load_public_keys(path):
    """Entries of a list-public-keys document, as the CLI v1 client returns
    them: Value and Fingerprint verbatim, validity times as wire epoch
    numbers (the CLI installs identity blob and timestamp parsers)."""
    data = _read_file(path)
    try:
        doc = json.loads(data.decode('utf-8'))
    except ValueError as e:
        raise HarnessError(f'{path}: not JSON: {e}')
    if isinstance(doc, dict) and 'PublicKeyList' in doc:
        entries = doc['PublicKeyList']
    elif isinstance(doc, list):
        entries = doc
    else:
        raise HarnessError(f'{path}: expected {{"PublicKeyList": [...]}}')
    if not isinstance(entries, list):
        raise HarnessError(f'{path}: PublicKeyList is not a list')
    keys = []
    for i, entry in enumerate(entries):
        where = f'{path}: PublicKeyList[{i}]'
        if not isinstance(entry, dict):
            raise HarnessError(f'{where}: not an object')
        for field in ('Value', 'Fingerprint', 'ValidityStartTime',
                      'ValidityEndTime'):
            if field not in entry:
                raise HarnessError(f'{where}: missing {field}')
        if not isinstance(entry['Value'], str) or not isinstance(
                entry['Fingerprint'], str):
            raise HarnessError(f'{where}: Value and Fingerprint must be strings')
        keys.append({
            'Value': entry['Value'],
            'ValidityStartTime': parse_key_time(
                entry['ValidityStartTime'], where + '.ValidityStartTime'),
            'ValidityEndTime': parse_key_time(
                entry['ValidityEndTime'], where + '.ValidityEndTime'),
            'Fingerprint': entry['Fingerprint'],
        })
    return keys


# ---------------------------------------------------------------------------
# the mirror (S3 storage)


class Mirror:
    """Read-only view of a mirror root as a set of S3 buckets."""

    def __init__(self, root, metadata_overrides=None):
        self.root = os.path.abspath(root)
        if not os.path.isdir(self.root):
            raise HarnessError(f'mirror root is not a directory: {root}')
        self._index = {}  # bucket -> (sorted [(key_bytes, key)], {key: path})
        self._overrides = {}
        for name, meta in (metadata_overrides or {}).items():
            bucket, sep, key = name.partition('/')
            if not sep or not bucket or not key:
                raise HarnessError(
                    f'metadata override name must be BUCKET/KEY: {name!r}')
            self._overrides[(bucket, key)] = self._check_metadata(
                meta, f'metadata override {name!r}')

    def bucket_exists(self, bucket):
        if not bucket or '/' in bucket or bucket in ('.', '..'):
            return False
        return os.path.isdir(os.path.join(self.root, bucket))

    def _bucket_index(self, bucket):
        if bucket not in self._index:
            base = os.path.join(self.root, bucket)
            keys = {}
            for dirpath, dirnames, filenames in os.walk(base,
                                                        onerror=_walk_error):
                dirnames.sort()
                rel = os.path.relpath(dirpath, base)
                for name in filenames:
                    if name.endswith(METADATA_SUFFIX):
                        continue
                    path = os.path.join(dirpath, name)
                    if not os.path.isfile(path):
                        continue
                    key = name if rel == '.' else f'{rel}/{name}'
                    key = key.replace(os.sep, '/')
                    try:
                        key.encode('utf-8')
                    except UnicodeEncodeError:
                        raise HarnessError(
                            f'file name is not valid UTF-8, cannot be an S3 '
                            f'key: {os.fsencode(path)!r}')
                    keys[key] = path
            ordered = sorted(keys, key=lambda k: k.encode('utf-8'))
            ordered_bytes = [k.encode('utf-8') for k in ordered]
            self._index[bucket] = (ordered_bytes, ordered, keys)
        return self._index[bucket]

    def object_path(self, bucket, key):
        """Path of the file holding s3://bucket/key, or None."""
        return self._bucket_index(bucket)[2].get(key)

    def sorted_keys(self, bucket):
        """(keys as UTF-8 bytes, keys) in S3 listing order."""
        return self._bucket_index(bucket)[:2]

    @staticmethod
    def _check_metadata(meta, where):
        if not isinstance(meta, dict):
            raise HarnessError(f'{where}: metadata must be a JSON object')
        out = {}
        for name, value in meta.items():
            if not isinstance(value, str):
                raise HarnessError(
                    f'{where}: metadata value for {name!r} is not a string '
                    '(S3 user metadata values are strings)')
            # S3 stores user metadata names in lower case.
            lname = name.lower()
            if lname in out:
                raise HarnessError(f'{where}: duplicate metadata name {name!r}')
            out[lname] = value
        return out

    def metadata(self, bucket, key, path):
        if (bucket, key) in self._overrides:
            return dict(self._overrides[(bucket, key)])
        sidecar = path + METADATA_SUFFIX
        if not os.path.isfile(sidecar):
            return {}
        try:
            meta = json.loads(_read_file(sidecar).decode('utf-8'))
        except ValueError as e:
            raise HarnessError(f'{sidecar}: not JSON: {e}')
        return self._check_metadata(meta, sidecar)


# ---------------------------------------------------------------------------
# fake clients


class _Meta:
    def __init__(self, service_name, region_name):
        self.service_name = service_name
        self.region_name = region_name


class _FakeClient:
    SERVICE = None

    def __init__(self, world, session, region_name):
        self._world = world
        self._session = session
        self.meta = _Meta(self.SERVICE, region_name)
        self._model = world.service_model(session, self.SERVICE)
        self._exceptions = world.client_exceptions(session, self.SERVICE)

    @property
    def exceptions(self):
        return self._exceptions

    def _request(self, operation_name, params):
        """What the real client does before sending: events for
        before-parameter-build checks, then validation + serialisation.
        Returns the serialised request dict."""
        self._world.record(self.SERVICE, self.meta.region_name,
                           operation_name, params)
        op_model = self._model.operation_model(operation_name)
        self._before_parameter_build(op_model, params)
        serializer = botocore.serialize.create_serializer(
            self._model.metadata['protocol'], include_validation=True)
        return serializer.serialize_to_request(params, op_model)

    def _before_parameter_build(self, op_model, params):
        pass

    def _response_metadata(self, status=200, headers=None):
        request_id = self._world.next_request_id()
        all_headers = {'x-amzn-requestid': request_id}
        all_headers.update(headers or {})
        return {
            'RequestId': request_id,
            'HTTPStatusCode': status,
            'HTTPHeaders': all_headers,
            'RetryAttempts': 0,
        }

    def _error(self, operation_name, status, code, message, **extra):
        """Raise the exception botocore raises for a parsed error response."""
        error = {'Code': code, 'Message': message}
        error.update(extra)
        response = {
            'Error': error,
            'ResponseMetadata': self._response_metadata(status),
        }
        cls = self._exceptions.from_code(code)
        raise cls(response, operation_name)


class FakeS3(_FakeClient):
    SERVICE = 's3'

    def _before_parameter_build(self, op_model, params):
        # botocore's own 'before-parameter-build.s3' bucket name check.
        botocore.handlers.validate_bucket_name(params)
        bucket = params.get('Bucket')
        if isinstance(bucket, str) and bucket.startswith('arn:'):
            raise HarnessError(
                f'S3 access point / outpost ARNs are not emulated: {bucket}')

    def _no_such_bucket(self, operation_name, bucket):
        self._error(operation_name, 404, 'NoSuchBucket',
                    'The specified bucket does not exist', BucketName=bucket)

    def get_bucket_location(self, **params):
        self._request('GetBucketLocation', params)
        bucket = params['Bucket']
        if not self._world.mirror.bucket_exists(bucket):
            self._no_such_bucket('GetBucketLocation', bucket)
        # Every mirrored bucket is treated as a us-east-1 bucket, for which S3
        # returns an empty LocationConstraint (parsed as None).
        return {
            'ResponseMetadata': self._response_metadata(),
            'LocationConstraint': None,
        }

    def get_object(self, **params):
        self._request('GetObject', params)
        bucket, key = params['Bucket'], params['Key']
        mirror = self._world.mirror
        if not mirror.bucket_exists(bucket):
            self._no_such_bucket('GetObject', bucket)
        path = mirror.object_path(bucket, key)
        if path is None:
            self._error('GetObject', 404, 'NoSuchKey',
                        'The specified key does not exist.', Key=key)
        data = _read_file(path)
        mtime = os.stat(path).st_mtime
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        metadata = mirror.metadata(bucket, key, path)
        headers = {
            'content-length': str(len(data)),
            'etag': etag,
            'last-modified': _http_date(mtime),
            'accept-ranges': 'bytes',
        }
        for name, value in metadata.items():
            headers['x-amz-meta-' + name] = value
        return {
            'ResponseMetadata': self._response_metadata(200, headers),
            'AcceptRanges': 'bytes',
            # The CLI keeps timestamps as they come over the wire.
            'LastModified': _http_date(mtime),
            'ContentLength': len(data),
            'ETag': etag,
            'Metadata': metadata,
            'Body': botocore.response.StreamingBody(io.BytesIO(data),
                                                    len(data)),
        }

    def list_objects(self, **params):
        self._request('ListObjects', params)
        bucket = params['Bucket']
        mirror = self._world.mirror
        if not mirror.bucket_exists(bucket):
            self._no_such_bucket('ListObjects', bucket)
        if 'Delimiter' in params:
            raise HarnessError('ListObjects with Delimiter is not emulated')
        prefix = params.get('Prefix', '')
        marker = params.get('Marker', '')
        max_keys = min(params.get('MaxKeys', S3_MAX_KEYS), S3_MAX_KEYS)
        ordered_bytes, ordered = mirror.sorted_keys(bucket)
        prefix_b = prefix.encode('utf-8')
        marker_b = marker.encode('utf-8')
        # Keys strictly after the marker, in UTF-8 binary order, that start
        # with the prefix.
        i = max(bisect_right(ordered_bytes, marker_b),
                bisect_left(ordered_bytes, prefix_b))
        contents = []
        truncated = False
        while i < len(ordered) and ordered_bytes[i].startswith(prefix_b):
            if len(contents) == max_keys:
                truncated = True
                break
            key = ordered[i]
            path = mirror.object_path(bucket, key)
            st = os.stat(path)
            etag = '"%s"' % hashlib.md5(_read_file(path)).hexdigest()
            contents.append({
                'Key': key,
                'LastModified': _s3_iso(st.st_mtime),
                'ETag': etag,
                'Size': st.st_size,
                'StorageClass': 'STANDARD',
                'Owner': {'ID': self._world.owner_id},
            })
            i += 1
        response = {
            'ResponseMetadata': self._response_metadata(),
            'IsTruncated': truncated,
            'Marker': marker,
            'Name': bucket,
            'Prefix': prefix,
            'MaxKeys': max_keys,
            'EncodingType': 'url',
        }
        # S3 omits <Contents> entirely when nothing matched; botocore then has
        # no 'Contents' key, and 'Contents[*].Key' yields a single None.
        if contents:
            response['Contents'] = contents
        return response

    def can_paginate(self, operation_name):
        return operation_name == 'list_objects'

    def get_paginator(self, operation_name):
        if operation_name != 'list_objects':
            raise HarnessError(f'S3 paginator {operation_name} not emulated')
        config = self._world.paginator_config(self._session, 's3',
                                              'ListObjects')
        return botocore.paginate.Paginator(
            self.list_objects, config,
            self._model.operation_model('ListObjects'))


class FakeCloudTrail(_FakeClient):
    SERVICE = 'cloudtrail'

    def list_public_keys(self, **params):
        request = self._request('ListPublicKeys', params)
        if 'NextToken' in params:
            raise HarnessError('ListPublicKeys NextToken is not emulated')
        body = json.loads(request['body'] or b'{}')
        now = self._world.now_epoch()
        # What the service receives: integer epoch seconds.
        start = body.get('StartTime', now)
        end = body.get('EndTime', now)
        keys = [
            dict(k) for k in self._world.public_keys()
            if k['ValidityStartTime'] <= end and k['ValidityEndTime'] >= start
        ]
        return {
            'PublicKeyList': keys,
            'ResponseMetadata': self._response_metadata(),
        }

    def describe_trails(self, **params):
        self._request('DescribeTrails', params)
        trail = self._world.trail
        return {
            'trailList': [dict(trail)] if trail else [],
            'ResponseMetadata': self._response_metadata(),
        }


class FakeOrganizations(_FakeClient):
    SERVICE = 'organizations'

    def describe_organization(self, **params):
        self._request('DescribeOrganization', params)
        org_id = self._world.organization_id
        if not org_id:
            self._error('DescribeOrganization', 400,
                        'AWSOrganizationsNotInUseException',
                        'Your account is not a member of an organization.')
        return {
            'Organization': {'Id': org_id},
            'ResponseMetadata': self._response_metadata(),
        }


_CLIENT_CLASSES = {
    cls.SERVICE: cls for cls in (FakeS3, FakeCloudTrail, FakeOrganizations)
}


# ---------------------------------------------------------------------------
# the fake world and its installation


class FakeAWS:
    """Shared state behind every fake client of one CLI invocation."""

    def __init__(self, mirror_root, public_keys_file=None, trail=None,
                 organization_id=None, metadata_overrides=None, now=None):
        self.mirror = Mirror(mirror_root, metadata_overrides)
        self._public_keys_file = public_keys_file
        self._public_keys = None
        self.public_keys()  # fail early, before the CLI runs
        self.trail = trail
        self.organization_id = organization_id
        self.now = now  # aware datetime or None (real clock)
        # When set, S3 is a real server at this URL (a bench's, on loopback); the
        # other services stay fakes.
        self.s3_endpoint = None
        self.owner_id = '0' * 64
        self.calls = []
        self._request_counter = 0
        self._models = {}
        self._exceptions = {}

    @classmethod
    def from_scenario(cls, mirror_root, public_keys_file, scenario_json=None,
                      metadata_overrides=None, now=None):
        trail = organization_id = None
        if scenario_json:
            with open(scenario_json, 'rb') as f:
                scenario = json.loads(f.read().decode('utf-8'))
            trail = scenario.get('trail')
            organization_id = scenario.get('organization_id')
            if trail is not None and not isinstance(trail, dict):
                raise HarnessError(f'{scenario_json}: trail must be an object')
        return cls(mirror_root, public_keys_file, trail, organization_id,
                   metadata_overrides, now)

    # -- data --------------------------------------------------------------

    def public_keys(self):
        if self._public_keys is None:
            if not self._public_keys_file:
                self._public_keys = []
            else:
                self._public_keys = load_public_keys(self._public_keys_file)
        return self._public_keys

    def now_epoch(self):
        now = self.now or datetime.datetime.now(datetime.timezone.utc)
        return calendar.timegm(now.utctimetuple())

    def record(self, service, region, operation, params):
        self.calls.append({
            'service': service,
            'region': region,
            'operation': operation,
            'params': {k: (v.isoformat() if isinstance(v, datetime.datetime)
                           else v) for k, v in params.items()},
        })

    def next_request_id(self):
        self._request_counter += 1
        return 'FAKE%012X' % self._request_counter

    # -- botocore models, loaded through the CLI's own session -------------

    def service_model(self, session, service):
        if service not in self._models:
            self._models[service] = session.get_service_model(service)
        return self._models[service]

    def client_exceptions(self, session, service):
        if service not in self._exceptions:
            self._exceptions[service] = (
                ClientExceptionsFactory().create_client_exceptions(
                    self.service_model(session, service)))
        return self._exceptions[service]

    def paginator_config(self, session, service, operation):
        model = session.get_paginator_model(service)
        return model.get_paginator(operation)

    # -- client factory ----------------------------------------------------

    def create_client(self, session, service_name, region_name=None,
                      **kwargs):
        """Drop-in for awscli.utils.create_nested_client."""
        unknown = set(kwargs) - {'verify', 'endpoint_url', 'api_version',
                                 'use_ssl', 'config',
                                 'aws_access_key_id',
                                 'aws_secret_access_key',
                                 'aws_session_token'}
        if unknown:
            raise HarnessError(
                f'create_client({service_name}) with unsupported '
                f'arguments {sorted(unknown)}')
        if region_name is None:
            # As botocore: fall back to the configured region, else fail.
            region_name = session.get_config_variable('region')
            if region_name is None:
                raise botocore.exceptions.NoRegionError()
        if service_name == 's3' and self.s3_endpoint is not None:
            # The bench servers' credentials (the harness clears the caller's).
            client = session.create_client(
                's3', region_name=region_name, endpoint_url=self.s3_endpoint,
                aws_access_key_id='testing', aws_secret_access_key='testing')
            # Every bench bucket is in us-east-1, and s3s-fs does not answer
            # GetBucketLocation: the answer is given here, without a request.
            client.get_bucket_location = lambda **params: {
                'LocationConstraint': None}
            client.get_paginator = _v1_listing_as_v2(client.get_paginator)
            return client
        cls = _CLIENT_CLASSES.get(service_name)
        if cls is None:
            raise HarnessError(f'no fake for service {service_name}')
        return cls(self, session, region_name)

    def install(self, driver):
        """Patch the validation module of a CLIDriver's process to use the
        fakes and make any attempt at real network I/O fatal."""
        from awscli.customizations.cloudtrail import validation

        validation.create_nested_client = self.create_client
        if self.now is not None:
            fixed = self.now

            def fixed_current_datetime(remove_tzinfo=True):
                if remove_tzinfo:
                    return fixed.replace(tzinfo=None)
                return fixed

            validation.get_current_datetime = fixed_current_datetime
        if self.s3_endpoint is None:
            driver.session.register('before-send', _refuse_send)
            _block_sockets()
        else:
            endpoint = self.s3_endpoint.rstrip('/') + '/'

            def only_the_endpoint(request=None, **kwargs):
                url = getattr(request, 'url', '?')
                if not url.startswith(endpoint):
                    _refuse_send(request)

            driver.session.register('before-send', only_the_endpoint)


def _v1_listing_as_v2(get_paginator):
    """s3s-fs answers ListObjectsV2 only: the CLI's ListObjects (v1) pages, asked
    as V2 pages from the same start key (the same keys, a request per 1,000)."""
    def paginator(name):
        if name != 'list_objects':
            return get_paginator(name)
        v2 = get_paginator('list_objects_v2')

        class AsV1:
            @staticmethod
            def paginate(Marker=None, **params):
                if Marker:
                    params['StartAfter'] = Marker
                return v2.paginate(**params)

        return AsV1()

    return paginator


def _refuse_send(request=None, **kwargs):
    url = getattr(request, 'url', '?')
    raise HarnessError(f'a real AWS request was attempted: {url}')


def _block_sockets():
    def refuse(*args, **kwargs):
        raise HarnessError(f'network access attempted: {args!r}')

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


__all__ = ['FakeAWS', 'HarnessError', 'Mirror', 'load_public_keys',
           'parse_key_time']

if __name__ == '__main__':  # pragma: no cover
    sys.exit('fake_aws is a library; run run_reference.py')
