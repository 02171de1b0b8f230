"""Gunicorn settings for Simpul in production.

Started by ``deploy/systemd/simpul-web.service`` (and the ``web`` service of
``deploy/compose.yaml``) as::

    gunicorn --config deploy/gunicorn.conf.py wsgi:app

Gunicorn sits behind nginx, which terminates TLS, serves ``/static/`` and buffers request
bodies, so plain synchronous workers are enough. A few values can be changed through the
environment without editing this file:

    GUNICORN_BIND        address to listen on               (default 127.0.0.1:8000; the
                         Docker image: unix:/run/simpul/gunicorn.sock)
    GUNICORN_WORKERS     number of worker processes         (default 2 * CPU cores + 1)
    GUNICORN_TIMEOUT     seconds before a silent worker is killed and restarted (default 60)
    FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-Proto is trusted (read by gunicorn itself;
                         default 127.0.0.1,::1 = nginx on the same machine; a unix-socket peer
                         is always trusted). Never "*".

Bind to loopback or a unix socket only, never to an address other machines can reach: nginx is
the one way in, and the X-Forwarded-* headers are believed because they come from it.

The app itself takes the client address, scheme and host from nginx's X-Forwarded-* headers
according to its own settings PROXY_FIX_HOPS (1 behind nginx) and TRUSTED_PROXIES (the peers
whose headers are believed; loopback by default; a unix-socket peer always): see
deploy/simpul.env.example.

Case data must never reach a log: the access log records the method and the path only,
never the query string (``%(q)s``), the full request line (``%(r)s``) or the Referer
(``%(f)s``), which can carry search terms such as a victim's name.
"""

import multiprocessing
import os


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


wsgi_app = "wsgi:app"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Workers: the usual 2 * cores + 1 for synchronous workers.
workers = _int_env("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# A request that takes longer than this is killed (the worker is restarted). nginx's
# proxy_read_timeout is set a little higher so that gunicorn gives up first.
timeout = _int_env("GUNICORN_TIMEOUT", 60)
# On SIGTERM/SIGHUP, workers get this long to finish the request they are serving.
graceful_timeout = 30
# Sync workers close the connection after each response; nginx talks to us over loopback.
keepalive = 2

# Recycle workers now and then so slow leaks cannot accumulate; the jitter keeps all workers
# from restarting at the same moment.
max_requests = 1000
max_requests_jitter = 100

# The app is imported in each worker, after the fork, so no database connection or Redis
# socket is ever shared between processes.
preload_app = False

# Heartbeat files on a RAM-backed filesystem (also exists inside containers and under
# systemd's PrivateTmp/PrivateDevices).
worker_tmp_dir = "/dev/shm"  # noqa: S108  (a RAM filesystem for heartbeats, not data)

# nginx on the same machine sets X-Forwarded-Proto; only then does gunicorn treat the request as
# HTTPS. The FORWARDED_ALLOW_IPS environment variable, if set, takes precedence. (The app's
# PROXY_FIX_HOPS does the same for the app, plus the client address and host.)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
if forwarded_allow_ips.strip() == "*":
    raise RuntimeError(
        "FORWARDED_ALLOW_IPS='*' lets any client claim HTTPS: name the proxy (127.0.0.1,::1 for "
        "nginx on this machine), or bind to a unix socket, whose peer gunicorn always trusts"
    )

# Request limits: stay at gunicorn's defaults except for a slightly smaller header budget.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Logging: both streams go to stdout/stderr, i.e. to journald (systemd) or `docker logs`.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# remote address, time, method, path WITHOUT query string, protocol, status, bytes, duration in
# ms, and nginx's request id (X-Request-ID) so a line can be matched with nginx's log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
# Do not copy stray print() output of the app into the error log.
capture_output = False

# Gunicorn 25.1+ opens a control socket under $HOME by default; it is not used here.
# (Older gunicorn releases ignore this unknown name.)
control_socket_disable = True

proc_name = "simpul-web"
