from django.conf import settings

from yizhan.core.permissions import is_console_user
from yizhan.core.pwa import outbox_owner


def site(request):
    user = getattr(request, "user", None)
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "MAP_TILES": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "subdomains": settings.MAP_TILE_SUBDOMAINS,
            "crs": settings.MAP_TILE_CRS,
        },
        "is_console_user": is_console_user(user),
        "LARGE_TEXT": request.COOKIES.get("yz_text") == "large",
        "OUTBOX_OWNER": outbox_owner(user),
    }
