from django.urls import path

from triage import views

app_name = "triage"

urlpatterns = [
    path("board", views.board, name="board"),
    path("board/counts", views.board_counts, name="board-counts"),
    path("board/items/<int:pk>", views.item_detail, name="item-detail"),
    path("board/items/<int:pk>/qualify", views.qualify_item, name="qualify-item"),
    path("demo/issues", views.demo_issues, name="demo-issues"),
    path("demo/issues/<int:pk>", views.demo_issue, name="demo-issue"),
]
