"""User profile routes (SPEC §4.5), mounted under `/api/`. `{id:text}`: the user id is opaque text, not a UUID
(SPEC §1.6's exception); the views answer 403 for any id but the caller's own or `me`."""

from lego_api.core.routers import Router
from profiles.views import AvatarView, ProfileView

router = Router()
router.add("users/{id:text}", ProfileView.as_view(), "user-profile")  # U1, U2
router.add("users/{id:text}/avatar", AvatarView.as_view(), "user-avatar")  # U3, U4

urlpatterns = router.urls
