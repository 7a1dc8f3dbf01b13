"""The vault's keys: a current key and old ones, scrypt-derived per record, in a self-describing ciphertext."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = ["CURRENT_FORMAT", "LEGACY_FORMAT", "KeyRing", "Opened", "format_of"]

# A stored ciphertext is `v2:<salt, url-safe base64>:<Fernet token>`. A legacy one is a bare Fernet token,
# which never contains a colon, so the two cannot be confused.
CURRENT_FORMAT = "v2"
LEGACY_FORMAT = "legacy"
SALT_BYTES = 16
# n=2**15, r=8, p=1: 32 MiB and about 0.15 s per derivation on a 2-core test machine. Guessing a passphrase
# from a stolen catalog then costs that much per guess and per record, while opening a credential stays
# well under a second even when an old key is tried first; each key is derived once per record and process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


def format_of(ciphertext: str) -> str:
    """`v2` for the salted scrypt format, `legacy` for a bare token keyed by SHA-256 of the material."""
    return CURRENT_FORMAT if ciphertext.startswith(CURRENT_FORMAT + ":") else LEGACY_FORMAT


@dataclass(frozen=True, repr=False)
class Opened:
    """A decrypted body and the key that opened it: 0 is the current key, i > 0 the i-th old key."""

    plain: bytes
    key: int


class KeyRing:
    """Encrypts with the current key; decrypts with whichever key, current or old, opens the record.

    Every material goes through scrypt, the generated key file's too: a random key cannot be told apart
    from a passphrase that looks like one, and the key file's content must keep working verbatim as
    GAZETTEER_SECRET_KEY, so one derivation for all keeps the two the same and never skips stretching
    for a key a person chose.
    """

    def __init__(self, current: str, old: Sequence[str] = ()) -> None:
        # Private, and no repr that shows them: the materials must not reach logs or tracebacks.
        self._materials = [current, *old]
        # Positions stay those of GAZETTEER_OLD_SECRET_KEYS (so "old key 2" means something to the operator);
        # empty entries and repeats of an earlier key are not worth trying twice.
        self._order = [index for index, material in enumerate(self._materials)
                       if material and material not in self._materials[:index]]
        self._derived: dict[tuple[int, bytes], Fernet] = {}

    def __repr__(self) -> str:
        return f"<KeyRing: current key and {len(self._materials) - 1} old key(s)>"

    def _fernet(self, index: int, salt: bytes) -> Fernet:
        # Cached per (key, salt): a server opens the same credential on every run of its workflow.
        fernet = self._derived.get((index, salt))
        if fernet is None:
            kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
            fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(self._materials[index].encode("utf-8"))))
            self._derived[(index, salt)] = fernet
        return fernet

    def _legacy_fernet(self, index: int) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(self._materials[index].encode("utf-8")).digest()))

    def seal(self, plain: bytes) -> str:
        """Encrypt with the current key under a fresh salt, in the current format."""
        salt = os.urandom(SALT_BYTES)
        token = self._fernet(0, salt).encrypt(plain).decode("ascii")
        return f"{CURRENT_FORMAT}:{base64.urlsafe_b64encode(salt).decode('ascii')}:{token}"

    def open(self, ciphertext: str) -> Opened | None:
        """The body and the first key (current first) that opens it; None when none does."""
        if format_of(ciphertext) == LEGACY_FORMAT:
            candidates = ((index, self._legacy_fernet(index)) for index in self._order)
            token = ciphertext
        else:
            encoded_salt, _, token = ciphertext.removeprefix(CURRENT_FORMAT + ":").partition(":")
            try:
                salt = base64.b64decode(encoded_salt, altchars=b"-_", validate=True)
            except ValueError:  # binascii.Error (not base64) is one, and so is text that is not ASCII
                return None
            if not salt:
                return None
            candidates = ((index, self._fernet(index, salt)) for index in self._order)
        for index, fernet in candidates:
            try:
                return Opened(fernet.decrypt(token), index)
            except (InvalidToken, ValueError):  # ValueError: a token that is not even ASCII
                continue
        return None
