from django.utils.functional import SimpleLazyObject

from vigie import navigation as registry


def navigation(request):
    return {"navigation": SimpleLazyObject(lambda: registry.entries(request))}
