"""The watchdog thread's life: stopped at interpreter exit, as the housekeeper is."""
from __future__ import absolute_import, division, print_function

import socket

from dbpool import watchdog


def test_stop_ends_the_thread_even_while_a_deadline_is_pending():
    # Python 2.7 printed "Exception in thread dbpool-watchdog (most likely
    # raised during interpreter shutdown)" for a thread left waiting; the
    # module stops it from an atexit hook.
    dog = watchdog.Watchdog()
    sock = socket.socket()
    try:
        dog.disarm(dog.arm(sock, 30))
        thread = dog._thread
        assert thread.is_alive()
        dog.stop()
        assert not thread.is_alive()
        dog.arm(sock, 30)
        assert dog._thread is thread
    finally:
        sock.close()

