"""Connecting to the addresses that were checked, not to whatever the host name resolves to later.

A provider URL's host is looked up once (wizard.providers.custom.urls.resolve) and each address
is checked; a second lookup by the HTTP library could give another answer (DNS rebinding: a
public address for the check, then 127.0.0.1), so the connection is made to the checked
addresses only. Everything else stays the URL's: the Host header, TLS's server name (SNI) and
the certificate's check against the host name."""
import requests
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

NO_PROXIES = {"http": None, "https": None, "all": None}  # a proxy would resolve the name itself


class _PinnedConnection:
    """Connects to pinned_addresses in turn; self.host stays the URL's host for TLS and Host."""

    def __init__(self, *args, pinned_addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned_addresses = tuple(pinned_addresses)

    def _new_conn(self):
        if not self.pinned_addresses:
            raise NewConnectionError(self, "no checked address to connect to")
        host = self._dns_host  # urllib3 connects to _dns_host; host, SNI and Host derive from it after
        try:
            for index, address in enumerate(self.pinned_addresses):
                self._dns_host = address
                try:
                    return super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError):
                    if index + 1 == len(self.pinned_addresses):
                        raise
        finally:
            self._dns_host = host


class PinnedHTTPConnection(_PinnedConnection, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


PINNED = {"http": PinnedHTTPConnection, "https": PinnedHTTPSConnection}


class _PinnedPoolManager(PoolManager):
    def __init__(self, addresses, **kwargs):
        super().__init__(**kwargs)
        self.addresses = addresses

    def _new_pool(self, scheme, host, port, request_context=None):
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = PINNED[scheme]
        pool.conn_kw["pinned_addresses"] = self.addresses
        return pool


class PinnedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose connections go to `addresses` (IP addresses, checked), whatever
    the URL's host name resolves to by then. Mount it for one exchange and send with
    proxies=NO_PROXIES."""

    def __init__(self, addresses):
        self.addresses = tuple(addresses)
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _PinnedPoolManager(self.addresses, num_pools=connections, maxsize=maxsize, block=block,
                                              **pool_kwargs)
