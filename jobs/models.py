"""A job: long work (an import, a workbook) that a background worker does for one user.

The task queue (django-tasks with its database backend) runs the work; this row is the app's
own record of it, written by the worker as it goes (autocommitted, so the page polling it sees
the progress): what stage it is at, how far, and at the end the message, the problems or the
file to download. A job and its file belong to the user who asked for it only; both are
deleted a day after the job ended (``jobs.retention``).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT_CHECK = "import_check", _("Import check")
        IMPORT = "import", _("Import")
        DATA = "data", _("Data download")
        REPORT = "report", _("Report workbook")
        RECAP = "recap", _("Register recap workbook")
        GROUP_DATA = "group_data", _("Group data workbook")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(_("what"), max_length=200)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=40, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    beat = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["owner", "-created"]), models.Index(fields=["status", "beat"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("jobs:detail", args=[self.pk])

    @property
    def percent(self) -> int | None:
        """How far, when the stage's total is known."""
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))

    @property
    def ended(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
