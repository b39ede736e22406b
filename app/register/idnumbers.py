"""ID numbers in the register: checked, sealed, found and masked (docs/register.md#id-numbers).

- checked: the resident identity card number of GB 11643-1999 (18 characters, the last a check
  digit over the first 17 per ISO 7064 MOD 11-2; a valid birth date and address code), with
  python-stdnum's ``cn.ric``;
- sealed: AES-256-GCM with a random 96-bit nonce (``nonce || ciphertext+tag``); the database never
  holds the number in the clear;
- found: HMAC-SHA256 of the normalised number under a second key, unique per person;
- masked: the first six and last four characters (``330203********123X``), for lists and diffs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from app.errors import InvalidInput
from app.register.keys import RegisterKeys

RESIDENT_ID = "111"  # 居民身份证 (the ID type checked here)
_AAD = b"gridgov.persons.id_number"

_MESSAGES: dict[type[Exception], str] = {
    stdnum_errors.InvalidLength: "身份证号应为18位",
    stdnum_errors.InvalidFormat: "身份证号前17位应为数字，末位为数字或X",
    stdnum_errors.InvalidChecksum: "身份证号校验码不符（GB 11643），请核对后重新输入",
    stdnum_errors.InvalidComponent: "身份证号中的出生日期或地址码无效",
}


@dataclass(frozen=True)
class IdNumber:
    """A checked ID number and what it says."""

    number: str  # normalised: upper-case X, no spaces
    id_type: str
    birth_date: dt.date | None
    gender: str | None  # GB/T 2261.1: "1" male, "2" female


def check(raw: str, *, id_type: str = RESIDENT_ID, field: str = "id_number") -> IdNumber:
    """The ID number ``raw`` checked, or 422 naming ``field`` and what is wrong with it."""
    text = (raw or "").strip()
    if id_type != RESIDENT_ID:
        # Passports and travel permits: kept as given (letters and digits), not checked further.
        number = "".join(text.split()).upper()
        if not (4 <= len(number) <= 30 and number.isalnum()):
            raise InvalidInput(f"{field}：证件号码应为4–30位字母或数字", field=field)
        return IdNumber(number, id_type, None, None)
    try:
        number = _validate(text)
    except stdnum_errors.ValidationError as exc:
        message = _MESSAGES.get(type(exc), "身份证号无效")
        raise InvalidInput(f"{field}：{message}", field=field) from exc
    gender = "1" if int(number[16]) % 2 == 1 else "2"
    return IdNumber(number, id_type, ric.get_birth_date(number), gender)


def _validate(text: str) -> str:
    """``ric.validate``, step by step, with the birth-place lookup (python-stdnum's address-code
    table, the slow part: ~2 ms) cached by address code and birth year, which is all it reads."""
    number = ric.compact(text)
    if len(number) != 18:
        raise stdnum_errors.InvalidLength()
    if not number[:-1].isdigit():
        raise stdnum_errors.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise stdnum_errors.InvalidChecksum()
    ric.get_birth_date(number)
    if not _place_known(number[:10]):
        raise stdnum_errors.InvalidComponent()
    return number


@lru_cache(maxsize=65536)
def _place_known(code_and_year: str) -> bool:
    try:
        ric.get_birth_place(code_and_year + "0101" + "0000")
    except stdnum_errors.ValidationError:
        return False
    return True


def mask(number: str) -> str:
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def lookup_hash(keys: RegisterKeys, number: str, id_type: str = RESIDENT_ID) -> bytes:
    return hmac.new(keys.lookup, f"{id_type}:{number}".encode(), hashlib.sha256).digest()


def seal(keys: RegisterKeys, number: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(keys.seal).encrypt(nonce, number.encode(), _AAD)


def unseal(keys: RegisterKeys, sealed: bytes) -> str:
    data = bytes(sealed)
    return AESGCM(keys.seal).decrypt(data[:12], data[12:], _AAD).decode()
