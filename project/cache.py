"""The embedded cache: Django's file cache, shared by every worker of one server.

A folder on the server's disk is the one place all of its gunicorn workers
(and a restarted worker) see, so the patient-link limits are counted once per
server rather than once per process. Django's own ``add()`` and ``incr()``
read and then write, so two workers counting at once could both write the
same number, and its ``incr()`` rewrites the entry with the default timeout,
cutting an hour's counter short. Here both hold one lock for the folder, and
``incr()`` keeps the entry's expiry.

Several app servers need one cache between them: ``CACHE_URL=redis://…``.
"""

import os
import pickle
import tempfile
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends import filebased
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.files import locks

LOCK_NAME = "counters.lock"  # not a cache entry: clear() and culling leave it alone


class FileBasedCache(filebased.FileBasedCache):
    """Django's file cache with ``add()`` and ``incr()`` safe across processes."""

    @contextmanager
    def _lock(self):
        self._createdir()
        with open(os.path.join(self._dir, LOCK_NAME), "ab") as lock_file:
            locks.lock(lock_file, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock_file)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._lock():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """Add ``delta`` to a stored number; the entry keeps its expiry. ValueError if missing."""
        with self._lock():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "rb") as f:
                    expiry = pickle.load(f)
                    if expiry is not None and expiry < time.time():
                        raise FileNotFoundError(fname)
                    value = pickle.loads(zlib.decompress(f.read())) + delta
            except (FileNotFoundError, EOFError):
                raise ValueError(f"Key '{key}' not found") from None
            # A new file moved into place: a reader without the lock sees the
            # old number or the new one, never half of one.
            fd, tmp_path = tempfile.mkstemp(dir=self._dir)
            try:
                with open(fd, "wb") as f:
                    f.write(pickle.dumps(expiry, self.pickle_protocol))
                    f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
                os.replace(tmp_path, fname)
            except BaseException:
                os.remove(tmp_path)
                raise
            return value
