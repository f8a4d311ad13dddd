"""The client's address, whether the app is reached directly or through trusted proxies."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The address of the client that sent the request.

    With ``TRUSTED_PROXIES = 0`` (reached directly) it is ``REMOTE_ADDR``: an
    ``X-Forwarded-For`` header then comes from the client itself and proves nothing. With N
    trusted proxies in front, each appending the address it was reached from, the client is
    the N-th entry of ``X-Forwarded-For`` from the right; entries further left were sent by
    the client and are ignored. A header too short or an entry that is not an address falls
    back to ``REMOTE_ADDR``. For example, with one proxy (nginx's
    ``$proxy_add_x_forwarded_for``), a client that forges ``X-Forwarded-For: 1.1.1.1`` from
    203.0.113.7 arrives as ``1.1.1.1, 203.0.113.7``, and the answer is ``203.0.113.7``.

    django-axes (``AXES_CLIENT_IP_CALLABLE``) and the access log both ask this function, so
    lockouts and the log always agree. Settings are read per call (tests override them).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXIES
    if not proxies:
        return remote
    # Several X-Forwarded-For headers reach the app joined by commas.
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(entries) < proxies:
        return remote
    try:
        address = ipaddress.ip_address(entries[-proxies])
    except ValueError:
        return remote
    if getattr(address, "scope_id", None):  # "fe80::1%eth0": no database stores the zone
        return remote
    return str(address)
