"""Bearer tokens from the Authorization header (the scheme is case-insensitive, RFC 9110)."""


def bearer_token(request):
    """The token of `Authorization: Bearer <token>` in any case of the scheme, else None."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
