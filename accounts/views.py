from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static


@login_required
def home(request):
    """Send each role to its own landing page."""
    user = request.user
    if user.is_kader:
        return redirect("households:cadre_home")
    if user.is_opd:
        return redirect("reports:index")
    if user.is_dppkb:
        return redirect("reports:dashboard")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "accounts/no_role.html", status=403)


def favicon(request):
    # Looked up per request: with the manifest storage the hashed name exists only after
    # collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))
