from django.urls import path

from . import views

urlpatterns = [
    path("<str:source>", views.review_intake, name="review-intake"),
]
