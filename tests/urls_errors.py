from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import include, path


@login_not_required
def missing_page(request):
    raise Http404("no such page")


@login_not_required
def missing_record(request):
    get_user_model().objects.get(pk=-1)


urlpatterns = [
    path("missing-page", missing_page),
    path("missing-record", missing_record),
    path("", include("vigie.urls")),
]
