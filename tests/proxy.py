"""A small threaded TCP proxy on loopback that tests use to break connections.

``FaultProxy(target_port)`` listens on 127.0.0.1 (a free port, or the one
given) and forwards every accepted connection to 127.0.0.1:target_port.
The test controls it:

- ``cut()`` closes every current client and server socket (with an RST when
  ``reset=True``, the default, else a FIN); the proxy keeps accepting.
- ``stall()`` stops forwarding in both directions but keeps every socket
  open: the peer is alive to TCP (its kernel ACKs and answers keepalives)
  and silent to the application. New connections are accepted and held.
- ``resume()`` forwards again, including what was held back.
- ``close()`` cuts everything and stops listening.

With ``count=True`` it also reads the client side of the PostgreSQL
protocol and counts, per client, the messages that make the server answer:
Query (the simple protocol) and Sync (the extended one's end of a batch).
``round_trips()`` adds them up: a statement count the server sees, with no
timer involved.

One thread runs a select() loop over all sockets. Python 2.7 and 3.
"""
from __future__ import absolute_import, division, print_function

import errno
import select
import socket
import struct
import threading
import time

LOOPBACK = '127.0.0.1'
POLL_S = 0.02
CHUNK = 65536


class _Pair(object):
    __slots__ = ('client', 'server', 'reader')

    def __init__(self, client, reader=None):
        self.client = client
        self.server = None   # connected lazily, never while stalled
        self.reader = reader


class FrontendReader(object):
    """Splits what a client sends into protocol messages and counts Query and Sync."""

    # The first messages (startup, SSL and GSS requests) have no type byte.
    def __init__(self):
        self.buffer = b''
        self.untyped = True
        self.round_trips = 0

    def feed(self, data):
        self.buffer += data
        while True:
            if self.untyped:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack('!ii', self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                # SSLRequest and GSSENCRequest precede the real startup message.
                self.untyped = code in (80877103, 80877104)
                continue
            if len(self.buffer) < 5:
                return
            kind = self.buffer[:1]
            length = struct.unpack('!i', self.buffer[1:5])[0]
            if len(self.buffer) < 1 + length:
                return
            self.buffer = self.buffer[1 + length:]
            if kind in (b'Q', b'S'):
                self.round_trips += 1


def _hard_close(sock, reset):
    if sock is None:
        return
    try:
        if reset:
            # SO_LINGER with a zero timeout: close() sends an RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except (OSError, socket.error):
        pass
    try:
        sock.close()
    except (OSError, socket.error):
        pass


class FaultProxy(object):
    """Forward 127.0.0.1:port to 127.0.0.1:target_port, breakably."""

    def __init__(self, target_port, port=0, target_host=LOOPBACK, count=False):
        self.target = (target_host, int(target_port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, int(port)))
        self._listener.listen(128)
        self.host, self.port = LOOPBACK, self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs = []
        self._stalled = False
        self._running = True
        self.accepted = 0
        self.cuts = 0
        self._count = count
        self._readers = []
        self._thread = threading.Thread(target=self._loop, name='fault-proxy-%d' % self.port)
        self._thread.daemon = True
        self._thread.start()

    def __repr__(self):
        return '<FaultProxy 127.0.0.1:%d -> %s:%d%s>' % (
            self.port, self.target[0], self.target[1], ' stalled' * self._stalled)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- control ----------------------------------------------------------

    def connections(self):
        """How many client connections the proxy holds now."""
        with self._lock:
            return len(self._pairs)

    def round_trips(self):
        """Query and Sync messages sent by every client so far (count=True)."""
        with self._lock:
            return sum(reader.round_trips for reader in self._readers)

    def cut(self, reset=True):
        """Close every current client and server socket; return how many pairs."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.cuts += len(pairs)
        for pair in pairs:
            _hard_close(pair.client, reset)
            _hard_close(pair.server, reset)
        return len(pairs)

    def stall(self):
        """Stop forwarding, keep every socket open (a silent peer)."""
        with self._lock:
            self._stalled = True

    def resume(self):
        """Forward again."""
        with self._lock:
            self._stalled = False

    def close(self):
        """Cut everything, stop listening and stop the thread (bounded)."""
        self._running = False
        self._thread.join(5)
        self.cut()
        try:
            self._listener.close()
        except (OSError, socket.error):
            pass

    # -- the loop ---------------------------------------------------------

    def _loop(self):
        while self._running:
            with self._lock:
                stalled = self._stalled
                pairs = list(self._pairs)
            if not stalled:
                for pair in pairs:
                    if pair.server is None:
                        self._connect_upstream(pair)
            watched = [self._listener]
            if not stalled:
                for pair in pairs:
                    if pair.server is not None:
                        watched.extend([pair.client, pair.server])
            try:
                readable = select.select(watched, [], [], POLL_S)[0]
            except (OSError, socket.error, ValueError, select.error):
                # A socket was cut under us: go round again.
                time.sleep(POLL_S)
                continue
            for sock in readable:
                if sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock, pairs)

    def _accept(self):
        try:
            client, _ = self._listener.accept()
        except (OSError, socket.error):
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = FrontendReader() if self._count else None
        with self._lock:
            self._pairs.append(_Pair(client, reader))
            if reader is not None:
                self._readers.append(reader)
            self.accepted += 1

    def _connect_upstream(self, pair):
        try:
            server = socket.create_connection(self.target, timeout=5)
            server.settimeout(None)
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, socket.error):
            self._drop(pair)
            return
        with self._lock:
            if pair in self._pairs:
                pair.server = server
                return
        _hard_close(server, False)

    def _forward(self, sock, pairs):
        for pair in pairs:
            if sock is pair.client:
                peer = pair.server
                break
            if sock is pair.server:
                peer = pair.client
                break
        else:
            return
        with self._lock:
            if self._stalled or pair not in self._pairs:
                return
        try:
            data = sock.recv(CHUNK)
            if data:
                if pair.reader is not None and sock is pair.client:
                    pair.reader.feed(data)
                peer.sendall(data)
                return
        except (OSError, socket.error) as exc:
            if getattr(exc, 'errno', None) in (errno.EAGAIN, errno.EINTR):
                return
        self._drop(pair)

    def _drop(self, pair):
        # One side closed or failed: close both with a FIN, as a proxy does.
        with self._lock:
            if pair not in self._pairs:
                return
            self._pairs.remove(pair)
        _hard_close(pair.client, False)
        _hard_close(pair.server, False)
