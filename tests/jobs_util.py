"""Following a page that starts a background job (jobs run at once in tests: conftest)."""

from django.urls import reverse

from jobs.models import Job


def job_of(response) -> Job:
    """The job a response redirected to."""
    assert response.status_code == 302, (response.status_code, response.content[:300])
    prefix = reverse("jobs:list")
    assert response.url.startswith(prefix), response.url
    return Job.objects.get(pk=int(response.url[len(prefix):].strip("/")))


def job_file(client, response):
    """The file of the job a response started, downloaded by the same client."""
    job = job_of(response)
    assert job.status == Job.Status.DONE, job.message
    return client.get(reverse("jobs:download", args=[job.pk]))


def followed(response):
    """The response, or if it started a job, the job's file (downloaded by the same client)."""
    if response.status_code == 302 and response.url.startswith(reverse("jobs:list")):
        return job_file(response.client, response)
    return response
