"""gunicorn settings of the production profile (docs/deploy.md); the command line and the
environment (GUNICORN_BIND, WEB_CONCURRENCY) override them.

Sync workers: a request is short (the nearby search, a page, a report's intake), the database
does the waiting, and a worker that hangs is killed at ``timeout`` without taking others with
it. Run about two workers per core; ``docs/scaling.md`` has the measured requests per core.
"""

import os
import shutil
from pathlib import Path

wsgi_app = "yizhan.config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so one that grows does not grow forever.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same host adds X-Forwarded-For / -Proto (deploy/nginx/yizhan.conf).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Django logs every request it answers (with the request id); gunicorn's access log would say
# it again without one.
accesslog = None
errorlog = "-"
capture_output = False
proc_name = "yizhan-web"


def on_starting(server):
    # /metrics adds up what every worker wrote in PROMETHEUS_MULTIPROC_DIR: start it empty so
    # the counts of a previous run's workers do not linger.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
