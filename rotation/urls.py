app_name = "rotation"

urlpatterns = []
