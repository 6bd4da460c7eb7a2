"""Pages of mirrors.registry (namespace "registry"); the dashboard, moderation and status keep their plain names."""

from django.contrib.auth import views as auth_views
from django.urls import path

from mirrors.registry.views import accounts, moderation, operator, public, restrictions

app_name = "registry"

# Mounted by mirrors.urls without the namespace: the navigation links to these by their old names.
shell_urlpatterns = [
    path("mirrors/", public.mirror_status, name="mirror-status"),
    path("my/sites/", operator.my_sites, name="my-sites"),
    path("moderation/", moderation.moderation, name="moderation"),
]

_reset = "registry:password-reset"
urlpatterns = [
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/confirm/<uidb64>/<token>/", accounts.signup_confirm, name="signup-confirm"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            success_url="/accounts/password-reset/sent/",
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password-reset",
    ),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url="/accounts/reset/done/"),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("my/token/", accounts.api_token, name="api-token"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation-accept"),
    path("my/sites/new/", operator.site_create, name="site-create"),
    path("my/sites/<int:site_id>/", operator.site_detail, name="site-detail"),
    path("my/sites/<int:site_id>/edit/", operator.site_edit, name="site-edit"),
    path("my/sites/<int:site_id>/delete/", operator.site_delete, name="site-delete"),
    path("my/sites/<int:site_id>/invite/", operator.site_invite, name="site-invite"),
    path("my/sites/<int:site_id>/admins/<int:user_id>/remove/", operator.site_admin_remove, name="site-admin-remove"),
    path("my/sites/<int:site_id>/hosts/new/", operator.host_create, name="host-create"),
    path("my/hosts/<int:host_id>/", operator.host_detail, name="host-detail"),
    path("my/hosts/<int:host_id>/edit/", operator.host_edit, name="host-edit"),
    path("my/hosts/<int:host_id>/delete/", operator.host_delete, name="host-delete"),
    path("my/hosts/<int:host_id>/verify/", operator.host_verify, name="host-verify"),
    path("my/hosts/<int:host_id>/switch/", operator.host_switch, name="host-switch"),
    path("my/hosts/<int:host_id>/new-token/", operator.host_new_token, name="host-new-token"),
    path("my/hosts/<int:host_id>/urls/new/", restrictions.url_create, name="url-create"),
    path("my/urls/<int:url_id>/edit/", restrictions.url_edit, name="url-edit"),
    path("my/urls/<int:url_id>/delete/", restrictions.url_delete, name="url-delete"),
    path("my/hosts/<int:host_id>/netblocks/new/", restrictions.netblock_create, name="netblock-create"),
    path("my/netblocks/<int:netblock_id>/delete/", restrictions.netblock_delete, name="netblock-delete"),
    path("my/hosts/<int:host_id>/countries/new/", restrictions.country_create, name="country-create"),
    path("my/countries/<int:country_id>/delete/", restrictions.country_delete, name="country-delete"),
    path("moderation/hosts/<int:host_id>/", moderation.moderation_host, name="moderation-host"),
    path("moderation/hosts/<int:host_id>/<str:action>/", moderation.moderation_decide, name="moderation-decide"),
]
