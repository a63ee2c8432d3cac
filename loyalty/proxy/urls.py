from django.urls import path

from . import views

urlpatterns = [
    path("api/account", views.account, name="proxy-account"),
    path("api/redemptions", views.redemptions, name="proxy-redemptions"),
    path("api/birthday", views.birthday, name="proxy-birthday"),
    path("r/<str:code>", views.referral, name="proxy-referral"),
]
