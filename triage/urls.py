app_name = "triage"

urlpatterns = []
