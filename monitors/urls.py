from django.urls import path

from monitors import views

app_name = "monitors"

urlpatterns = [
    path("monitors", views.overview, name="overview"),
    path("monitors/<int:pk>", views.check_detail, name="check"),
    path("incidents", views.incident_list, name="incidents"),
    path("incidents/<int:pk>", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/ack", views.act_on_incident, {"action": "ack"}, name="ack"),
    path(
        "incidents/<int:pk>/resolve", views.act_on_incident, {"action": "resolve"}, name="resolve"
    ),
    path("incidents/<int:pk>/note", views.act_on_incident, {"action": "note"}, name="note"),
    path("incidents/<int:pk>/ack/<str:token>", views.ack_link, name="ack-link"),
    path("api/incidents/<int:pk>/ack", views.api_incident, {"action": "ack"}, name="api-ack"),
    path(
        "api/incidents/<int:pk>/resolve",
        views.api_incident,
        {"action": "resolve"},
        name="api-resolve",
    ),
    path("ping/<uuid:token>", views.ping, name="ping"),
    path("ping/<uuid:token>/fail", views.ping, {"kind": "fail"}, name="ping-fail"),
    path("ping/<uuid:token>/start", views.ping, {"kind": "start"}, name="ping-start"),
]
