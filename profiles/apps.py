"""The profiles app: the profile mirror of Cognito users (SPEC §2.2, §3.10)."""

from django.apps import AppConfig

# `profiles.user_id` is UNIQUE (SPEC §3.10). The mirror inserts with ON CONFLICT DO NOTHING, so only a future
# writer that forgets to could hit it; it would answer 409, not 500 (SPEC §3.0).
USER_ID_CONSTRAINT = "profiles_user_id_key"
PROFILE_EXISTS = "Profile already exists"


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from lego_api.core.authentication import register_authenticated_hook
        from lego_api.core.cache import register_family
        from lego_api.core.errors import register_conflict
        from lego_api.core.orphans import register_key_prefix
        from lego_api.core.seeding import register_seeder
        from profiles.avatars import KEY_PREFIX, avatar_referenced_keys
        from profiles.services import profile_mirror

        register_family("profile")
        register_authenticated_hook(profile_mirror)
        register_conflict(USER_ID_CONSTRAINT, PROFILE_EXISTS)
        register_key_prefix(KEY_PREFIX, avatar_referenced_keys)
        register_seeder("profiles.seed.SEEDER")  # manage.py seed_demo (imported only there)
