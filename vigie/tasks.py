from vigie.models import Heartbeat

WORKER = "worker"


def heartbeat():
    """Runs on the worker every minute: /health reads its age."""
    Heartbeat.beat(WORKER)
