"""Session token checks: who may talk to the embedded admin."""

import time

import jwt
import pytest

from loyalty.shopify.session_tokens import InvalidSessionToken, decode_session_token
from tests.shopify_signing import (
    API_KEY,
    API_SECRET,
    OTHER_SECRET,
    PREVIOUS_API_SECRET,
    session_token,
)


@pytest.fixture(autouse=True)
def app_credentials(settings):
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    return settings


def test_a_valid_token_names_its_shop_user_and_session():
    token = session_token(shop="alice.myshopify.com", sub="7", sid="s-1")

    decoded = decode_session_token(token)

    assert decoded.shop == "alice.myshopify.com"
    assert decoded.user_id == "7"
    assert decoded.session_id == "s-1"
    assert decoded.raw == token
    assert token not in repr(decoded)


def test_a_token_signed_with_another_secret_is_refused():
    with pytest.raises(InvalidSessionToken):
        decode_session_token(session_token(secret=OTHER_SECRET))


def test_the_previous_secret_is_accepted_only_while_it_is_configured(settings):
    token = session_token(secret=PREVIOUS_API_SECRET)
    with pytest.raises(InvalidSessionToken):
        decode_session_token(token)

    settings.SHOPIFY_API_SECRET_PREVIOUS = PREVIOUS_API_SECRET

    assert decode_session_token(token).shop == "alice.myshopify.com"


def test_a_token_for_another_app_is_refused():
    with pytest.raises(InvalidSessionToken):
        decode_session_token(session_token(api_key="another-apps-key"))


def test_a_token_without_an_audience_is_refused():
    with pytest.raises(InvalidSessionToken):
        decode_session_token(session_token(aud=None))


def test_an_expired_token_is_accepted_within_10_seconds_of_leeway_only():
    now = time.time()
    just_expired = session_token(now=now - 65, lifetime=60)  # expired 5 s ago
    long_expired = session_token(now=now - 75, lifetime=60)  # expired 15 s ago

    assert decode_session_token(just_expired).shop == "alice.myshopify.com"
    with pytest.raises(InvalidSessionToken):
        decode_session_token(long_expired)


def test_a_token_from_the_future_is_refused_beyond_the_leeway():
    slightly_early = session_token(now=time.time() + 5)
    far_future = session_token(now=time.time() + 30)

    assert decode_session_token(slightly_early).shop == "alice.myshopify.com"
    with pytest.raises(InvalidSessionToken):
        decode_session_token(far_future)


def test_a_token_without_an_expiry_is_refused():
    with pytest.raises(InvalidSessionToken):
        decode_session_token(session_token(exp=None))


def test_iss_and_dest_must_name_the_same_shop():
    token = session_token(iss="https://alice.myshopify.com/admin", dest="https://bob.myshopify.com")
    with pytest.raises(InvalidSessionToken):
        decode_session_token(token)


def test_a_shop_outside_myshopify_com_is_refused():
    token = session_token(iss="https://evil.example.com/admin", dest="https://evil.example.com")
    with pytest.raises(InvalidSessionToken):
        decode_session_token(token)


def test_a_lookalike_myshopify_domain_is_refused():
    shop = "alice.myshopify.com.evil.example"
    token = session_token(iss=f"https://{shop}/admin", dest=f"https://{shop}")
    with pytest.raises(InvalidSessionToken):
        decode_session_token(token)


@pytest.mark.parametrize("claim", ["sub", "sid", "iss", "dest"])
def test_a_token_missing_a_required_claim_is_refused(claim):
    with pytest.raises(InvalidSessionToken):
        decode_session_token(session_token(**{claim: None}))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(garbage):
    with pytest.raises(InvalidSessionToken):
        decode_session_token(garbage)


def test_an_unsigned_token_is_refused():
    claims = jwt.decode(session_token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(InvalidSessionToken):
        decode_session_token(unsigned)
