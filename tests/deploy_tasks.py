"""A task for tests/test_deploy.py: the worker of deploy/systemd runs it."""

from django_tasks import task


@task()
def ping() -> str:
    return "pong"
