app_name = "monitors"

urlpatterns = []
