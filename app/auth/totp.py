"""Second factor: time-based one-time codes (TOTP, RFC 6238, via pyotp).

The shared secret is stored encrypted (Fernet) with a key derived from the signing key (HKDF), so a
database dump alone does not reveal it. Changing GRIDGOV_SECRET_KEY therefore voids every enrolment:
users enrol again. A code is accepted once (the last used time step is kept) and one step early or
late (clock drift of a phone).
"""

from __future__ import annotations

import base64
import datetime as dt

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

STEP_SECONDS = 30


def _fernet(signing_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"gridgov totp secret v1"
    ).derive(signing_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def new_secret() -> str:
    return pyotp.random_base32()


def seal(secret: str, signing_key: str) -> str:
    return _fernet(signing_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, signing_key: str) -> str | None:
    """The secret, or None if it was sealed with another key (the signing key changed)."""
    try:
        return _fernet(signing_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def matching_step(
    secret: str, code: str, *, last_step: int | None, now: dt.datetime | None = None
) -> int | None:
    """The time step ``code`` belongs to (now, one before or one after), if it was not used yet."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = now or dt.datetime.now(dt.UTC)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, when: dt.datetime) -> str:
    """The code a phone shows at ``when`` (tests, and the CLI's own check)."""
    return pyotp.TOTP(secret).at(when)
